package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/urfave/cli/v3"
)

// Every way of getting the command line wrong exits 2, at the root and in a subcommand:
// urfave/cli's parse, required-flag and help errors reach run as usage errors by type
// (OnUsageError on every command), not by their message text.
func TestCommandLineMistakesExitUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	cases := []struct {
		name string
		args []string
	}{
		{"undefined flag at the root", []string{"--nosuch"}},
		{"undefined flag in a subcommand", []string{"--db", db, "runs", "--nosuch"}},
		{"undefined flag two levels down", []string{"datasets", "fetch", "--nosuch"}},
		{"flag without its argument", []string{"--db", db, "report", "--out"}},
		{"invalid value", []string{"--db", db, "runs", "--limit", "many"}},
		{"required flag missing", []string{"datasets", "fetch"}},
		{"help on an unknown topic", []string{"help", "nosuch"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"tracker"}, c.args...), &stdout, &stderr)
			if code != exitUsage {
				t.Errorf("tracker %v: exit %d, want %d; stderr: %s", c.args, code, exitUsage, stderr.String())
			}
		})
	}
}

// urfave/cli calls only the failing command's own OnUsageError, so every command in the tree
// must set one (the root, and command() for the rest): a command declared another way would
// turn its parse errors into run-time failures (exit 1).
func TestEveryCommandMarksUsageErrors(t *testing.T) {
	var walk func(path string, cmd *cli.Command)
	walk = func(path string, cmd *cli.Command) {
		if cmd.OnUsageError == nil {
			t.Errorf("%s: no OnUsageError", path)
		}
		for _, sub := range cmd.Commands {
			walk(path+" "+sub.Name, sub)
		}
	}
	walk("tracker", rootCommand(io.Discard, io.Discard))
}
