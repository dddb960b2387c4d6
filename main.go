// Command tracker benchmarks OpenAI-compatible LLM inference endpoints and keeps every
// result in an embedded SQLite database. This file only wires the command line to the
// packages; each subcommand's flags live in a cmd_*.go file beside it.
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/urfave/cli/v3"
)

//go:embed schema.sql
var schemaSQL string

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // a run-time failure
	exitUsage   = 2 // bad flags, config or input
)

// usageError marks an error as the user's input being wrong (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func main() {
	ctx, stop := signalContext()
	defer stop()
	stopProfile := startCPUProfile(os.Getenv(cpuProfileEnv), os.Stderr)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stopProfile()
	os.Exit(code)
}

// cpuProfileEnv names a file to write the process's CPU profile to (runtime/pprof). It is
// for the scale benchmarks, which run the built binary as a child process: the profile must
// be the real process's, from flag parsing to exit. Not a flag: no user needs it.
const cpuProfileEnv = "TRACKER_CPUPROFILE"

// startCPUProfile profiles the process into path (nothing when path is empty) and returns
// what stops it and closes the file.
func startCPUProfile(path string, stderr io.Writer) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "tracker: %s: %v\n", cpuProfileEnv, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(stderr, "tracker: %s: %v\n", cpuProfileEnv, err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// signalContext is canceled by the first Ctrl-C or SIGTERM, which ends the run cleanly
// (in-flight requests recorded as canceled, the run marked interrupted). The signals then
// go back to their default effect, so a second one ends the process at once, even when the
// clean end is stuck (a database lock held by another process, a slow disk).
func signalContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

// run is the whole program, testable: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if err := rootCommand(stdout, stderr).Run(ctx, args); err != nil {
		fmt.Fprintf(stderr, "tracker: %v\n", err)
		var ue usageError
		var ec cli.ExitCoder // tracker never calls cli.Exit: cli's own is "No help topic for 'x'"
		if errors.As(err, &ue) || errors.As(err, &ec) {
			return exitUsage
		}
		return exitFailure
	}
	return exitOK
}

// rootCommand is the command tree: `tracker` and its subcommands.
func rootCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:                  "tracker",
		Usage:                 "benchmark LLM inference endpoints and keep every result in SQLite",
		Version:               version,
		Writer:                stdout,
		ErrWriter:             stderr,
		EnableShellCompletion: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "db", Value: "tracker.db", Usage: "the SQLite database file, or a PostgreSQL URL postgres://user@host:port/database (its password from PGPASSWORD or ~/.pgpass rather than the URL)", Sources: cli.EnvVars("TRACKER_DB")},
		},
		Commands: []*cli.Command{
			runCommand(),
			runsCommand(),
			queryCommand(),
			simCommand(),
			endpointsCommand(), initCommand(),
			datasetsCommand(),
			reportCommand(),
			mergeCommand(),
		},
		ExitErrHandler: func(ctx context.Context, cmd *cli.Command, err error) {},
		OnUsageError:   onUsageError,
	}
}

// command is a subcommand: its name, one-line usage, usage text (may be empty), flags and
// action, with what every command shares: its parse errors are usage errors (exit 2).
func command(name, usage, usageText string, flags []cli.Flag, action cli.ActionFunc) *cli.Command {
	return &cli.Command{Name: name, Usage: usage, UsageText: usageText, Flags: flags, Action: action,
		OnUsageError: onUsageError}
}

// onUsageError makes a command's parse errors (unknown flag, missing or invalid value,
// required flag or argument not set) usage errors. urfave/cli calls a command's own
// OnUsageError only, so every command in the tree sets it (root, and command for the rest).
func onUsageError(ctx context.Context, cmd *cli.Command, err error, isSubcommand bool) error {
	return usageError{err}
}
