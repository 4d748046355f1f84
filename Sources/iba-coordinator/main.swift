import IBACommands
print("not yet")
