module gomapdbg/bench/go

go 1.19
