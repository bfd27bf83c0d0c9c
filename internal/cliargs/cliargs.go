// Package cliargs parses a command's flags wherever they stand among its
// arguments: the flag package stops at the first argument that is not a
// flag, so "bab trace verify-receipt FILE --log-key KEY" would leave
// --log-key unparsed.
package cliargs

import "flag"

// Parse parses fs from args, flags and other arguments in any order, and
// returns the other arguments in their order. "--" ends the flags.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		used := len(args) - fs.NArg()
		if used > 0 && args[used-1] == "--" {
			return append(rest, fs.Args()...), nil
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}
