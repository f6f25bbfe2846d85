// Command davy finds cryptocurrency miners on hosts and in containers.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
