package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/davyproject/davy/internal/rules"
)

func newRulesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Check and list rules in Falco's rules format",
		Long: `Davy's agent evaluates rules written in Falco's rules format (lists,
macros, rules, exceptions, overrides) against the events it produces.
The built-in rules load first; your files can override them.
See docs/rules.md for the fields and event types.`,
	}
	cmd.AddCommand(newRulesCheckCmd(g), newRulesListCmd(g))
	return cmd
}

type rulesFlags struct {
	files     []string
	noDefault bool
}

// load reads the built-in rules (unless --no-default-rules) and then the
// files, in order.
func (f *rulesFlags) load(g *globals, withLogger bool) (*rules.Ruleset, error) {
	var srcs []rules.Source
	if !f.noDefault {
		srcs = append(srcs, rules.DefaultSource())
	}
	user, readErr := rules.ReadFiles(f.files...)
	srcs = append(srcs, user...)
	opts := rules.Options{}
	if withLogger {
		opts.Logger = g.logger()
	}
	rs, err := rules.Load(opts, srcs...)
	return rs, errors.Join(readErr, err)
}

// printDiags writes each problem on its own line, file:line:col first,
// and returns how many there were.
func printDiags(g *globals, err error) int {
	var le *rules.LoadError
	n := 0
	for _, e := range flatten(err) {
		if errors.As(e, &le) {
			for _, d := range le.Diags {
				fmt.Fprintln(g.stderr, d.Error())
				n++
			}
			continue
		}
		fmt.Fprintln(g.stderr, e.Error())
		n++
	}
	return n
}

// flatten splits an errors.Join into its parts.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if _, isLoad := err.(*rules.LoadError); !isLoad {
			return j.Unwrap()
		}
	}
	return []error{err}
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func newRulesCheckCmd(g *globals) *cobra.Command {
	f := &rulesFlags{}
	cmd := &cobra.Command{
		Use:   "check FILE...",
		Short: "Validate rules files",
		Long: `Loads the built-in rules and then each FILE in order, as the agent would,
and reports every problem as FILE:LINE:COLUMN: ITEM: MESSAGE. A rule with
a problem would not be loaded.

Exit codes:
  0  every rule loaded (warnings are printed but do not fail)
  1  at least one problem was found`,
		Example: `  davy rules check /etc/davy/rules.d/*.yaml
  davy rules check --no-default-rules my_falco_rules.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.files = args
			rs, err := f.load(g, false)
			for _, w := range rs.Warnings() {
				fmt.Fprintln(g.stderr, "warning: "+w.Error())
			}
			if err != nil {
				n := printDiags(g, err)
				return fmt.Errorf("%s in rules", plural(n, "problem"))
			}
			nr, nm, nl := rs.Counts()
			enabled := 0
			for _, r := range rs.Rules() {
				if r.Enabled {
					enabled++
				}
			}
			with := ""
			if !f.noDefault {
				with = " (with the built-in rules)"
			}
			fmt.Fprintf(g.stdout, "ok: %s: %s (%d enabled), %s, %s%s\n",
				plural(len(args), "file"), plural(nr, "rule"), enabled, plural(nm, "macro"), plural(nl, "list"), with)
			return nil
		},
	}
	cmd.Flags().BoolVar(&f.noDefault, "no-default-rules", false, "check the files alone, without the built-in rules first")
	return cmd
}

func newRulesListCmd(g *globals) *cobra.Command {
	f := &rulesFlags{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the loaded rules",
		Long: `Prints the rules the agent would load: the built-in ones, then those of
each --rules file, with their priority, whether they are enabled, the event
types they are evaluated for (any: every event) and their tags.`,
		Example: `  davy rules list
  davy rules list --rules /etc/davy/rules.d/local.yaml
  davy rules list --no-default-rules --rules my_falco_rules.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rs, err := f.load(g, true)
			if err != nil {
				n := printDiags(g, err)
				return fmt.Errorf("%s in rules", plural(n, "problem"))
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tPRIORITY\tENABLED\tEVENTS\tTAGS")
			for _, r := range rs.Rules() {
				events := "any"
				if r.EventTypes != nil {
					events = strings.Join(r.EventTypes, ",")
				}
				fmt.Fprintf(tw, "%s\t%s\t%t\t%s\t%s\n", r.Name, strings.ToUpper(r.Priority.String()), r.Enabled, events, strings.Join(r.Tags, ","))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringArrayVar(&f.files, "rules", nil, "a rules file to load after the built-in ones (repeatable, in order)")
	cmd.Flags().BoolVar(&f.noDefault, "no-default-rules", false, "do not load the built-in rules")
	return cmd
}
