package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/trackerbench/tracker/sim"
)

func simCommand() *cli.Command {
	return command("sim", "serve simulated OpenAI-compatible endpoints (a latency model of a serving engine; docs/sim.md)",
		"tracker sim --listen 127.0.0.1:8001 --profile illustrative-fast [--listen ADDR --profile NAME|FILE ...]\n"+
			"tracker sim --list-profiles",
		simFlags(), simAction)
}

func simFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "listen", Usage: "address to serve on (repeatable: one sim per address)", Value: []string{"127.0.0.1:8001"}},
		&cli.StringSliceFlag{Name: "profile", Usage: "a built-in profile name or a YAML file, one per --listen (or one for all)", Value: []string{"illustrative-fast"}},
		&cli.StringFlag{Name: "model", Usage: "serve this model name instead of the profile's"},
		&cli.Int64Flag{Name: "seed", Usage: "seed for jitter, faults, ids and output lengths (0 = the profile's)"},
		&cli.GenericFlag{Name: "fault", Value: &repeated{}, Usage: "inject a fault: KIND=RATE[,after=N][,duration=D][,retry_after=S] (repeatable; replaces the profile's fault of that kind)"},
		&cli.DurationFlag{Name: "drain-timeout", Usage: "on SIGINT/SIGTERM, wait this long for requests in flight", Value: 30 * time.Second},
		&cli.BoolFlag{Name: "list-profiles", Usage: "list the built-in profiles and exit"},
		&cli.StringSliceFlag{Name: "wire", Usage: "the dialect spoken, one per --listen (or one for all): " + strings.Join(sim.Wires(), ", ") + " (docs/endpoints.md)", Value: []string{sim.WireVLLM}},
		&cli.BoolFlag{Name: "close-after-stream", Usage: "close the connection after every streamed answer without saying so (as llama-server does; the llamacpp wire always does)"},
		&cli.IntFlag{Name: "keepalive-max", Usage: "close a connection after this many requests, without saying so (older llama.cpp: 5; nginx keepalive_requests); 0 = never"},
		&cli.DurationFlag{Name: "idle-close", Usage: "close a connection idle this long (a keep-alive timeout; 0 = Go's default)"},
		&cli.DurationFlag{Name: "relay-idle", Usage: "alcf-sophia: the relay ends a stream with [DONE] after this long without a chunk (default 5s)"},
	}
}

func simAction(ctx context.Context, cmd *cli.Command) error {
	w := cmd.Root().Writer
	if cmd.Bool("list-profiles") {
		for _, name := range sim.BuiltinNames() {
			p, _ := sim.Builtin(name)
			fmt.Fprintf(w, "%-22s %s\n", name, p.Description)
		}
		return nil
	}
	addrs, names := cmd.StringSlice("listen"), cmd.StringSlice("profile")
	if len(names) != 1 && len(names) != len(addrs) {
		return usagef("sim: %d --profile for %d --listen: give one profile, or one per --listen", len(names), len(addrs))
	}
	var faults []sim.Fault
	flagFaults, _ := cmd.Value("fault").([]string)
	for _, s := range flagFaults {
		f, err := sim.ParseFault(s)
		if err != nil {
			return usagef("sim: --fault: %v", err)
		}
		faults = append(faults, f)
	}
	servers := make([]*sim.Server, len(addrs))
	listeners := make([]net.Listener, len(addrs))
	closeAll := func() {
		for i := range addrs {
			if listeners[i] != nil {
				listeners[i].Close()
			}
			if servers[i] != nil {
				servers[i].Close()
			}
		}
	}
	for i, addr := range addrs {
		name := names[0]
		if len(names) > 1 {
			name = names[i]
		}
		p, err := sim.LoadProfile(name)
		if err != nil {
			closeAll()
			return usagef("sim: %v", err)
		}
		if m := cmd.String("model"); m != "" {
			p.Model = m
		}
		if seed := cmd.Int64("seed"); seed != 0 {
			p.Seed = seed
		}
		p.Faults = sim.MergeFaults(p.Faults, faults)
		wire := cmd.StringSlice("wire")[0]
		if ws := cmd.StringSlice("wire"); len(ws) > 1 {
			if len(ws) != len(addrs) {
				closeAll()
				return usagef("sim: %d --wire for %d --listen: give one wire, or one per --listen", len(ws), len(addrs))
			}
			wire = ws[i]
		}
		s, err := sim.New(p, sim.Options{DrainTimeout: cmd.Duration("drain-timeout"), Wire: wire,
			Relay: sim.RelayOptions{Idle: cmd.Duration("relay-idle")},
			Conn: sim.ConnOptions{CloseAfterStream: cmd.Bool("close-after-stream"), KeepaliveMax: cmd.Int("keepalive-max"),
				IdleClose: cmd.Duration("idle-close")}})
		if err != nil {
			closeAll()
			return usagef("sim: profile %s: %v", name, err)
		}
		servers[i] = s
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			closeAll()
			return fmt.Errorf("sim: listening on %s: %w", addr, err)
		}
		listeners[i] = ln
		fmt.Fprintf(w, "sim %s: model %s on http://%s/v1\n", p.Name, p.Model, ln.Addr())
	}
	fmt.Fprintln(w, "serving until SIGINT or SIGTERM")

	var wg sync.WaitGroup
	errs := make([]error, len(servers))
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Serve(ctx, listeners[i])
		}()
	}
	wg.Wait()
	for i, s := range servers {
		fmt.Fprintf(w, "sim %s on %s: %s\n", s.Profile().Name, listeners[i].Addr(), s.Stats())
	}
	return errors.Join(errs...)
}
