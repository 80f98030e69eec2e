module github.com/check-socat/check-socat

go 1.24

require (
	github.com/alecthomas/kong v1.17.0
	github.com/atc0005/go-nagios v0.20.0
)

require github.com/shirou/gopsutil/v3 v3.24.5 // indirect
