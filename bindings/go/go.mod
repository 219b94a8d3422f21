module github.com/libsypht/sypht-go

go 1.21
