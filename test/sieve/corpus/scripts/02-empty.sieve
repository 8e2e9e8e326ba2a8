# nothing at all: the implicit keep
