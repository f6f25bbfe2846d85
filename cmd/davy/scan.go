package main

import "github.com/spf13/cobra"

func newScanCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "One-shot scans: the host now, container images, directory trees",
	}
	cmd.AddCommand(newScanHostCmd(g), newScanImageCmd(g), newScanFSCmd(g))
	return cmd
}
