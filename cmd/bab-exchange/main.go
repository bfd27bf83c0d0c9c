// Command bab-exchange is the central exchange: see package exchange/cli.
package main

import (
	"os"

	"github.com/babgate/bab/exchange/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
