module github.com/vitc-dev/vitc

go 1.26.0

require (
	github.com/dave/jennifer v1.7.1
	github.com/nlpodyssey/gopickle v0.3.0
	golang.org/x/sys v0.50.0
)

require golang.org/x/text v0.14.0 // indirect
