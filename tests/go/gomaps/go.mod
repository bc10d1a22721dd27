module gomapdbg/tests/gomaps

go 1.19
