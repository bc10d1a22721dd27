module gomapdbg/tests/hashvec

go 1.19
