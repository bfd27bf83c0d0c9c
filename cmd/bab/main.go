// Command bab is the office appliance: see package appliance/cli.
package main

import (
	"os"

	"github.com/babgate/bab/appliance/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
