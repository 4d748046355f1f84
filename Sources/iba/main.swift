import IBACommands

IBACommand.main()
