import IBACommands

CoordinatorCommand.main()
