import IBACommands

WorkerCommand.main()
