module github.com/libsypht/sypht-go/examples/extract

go 1.21

require github.com/libsypht/sypht-go v0.0.0

replace github.com/libsypht/sypht-go => ../../bindings/go
