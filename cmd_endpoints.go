package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/trackerbench/tracker/runner"
)

func endpointsCommand() *cli.Command {
	return command("endpoints", "list the endpoint presets (preset: NAME in endpoints.yaml) and their defaults",
		"tracker endpoints [--verbose]",
		[]cli.Flag{&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "also print each preset's quirks"}},
		func(ctx context.Context, cmd *cli.Command) error {
			w := cmd.Root().Writer
			for _, p := range runner.Presets() {
				model := p.Model
				if model == "" {
					model = "(set model)"
				}
				key := "none"
				switch {
				case p.APIKeyCommand != "":
					key = "command: " + p.APIKeyCommand
				case p.APIKeyEnv != "":
					key = "$" + p.APIKeyEnv
				}
				rps := "none"
				if p.MaxRPS > 0 {
					rps = fmt.Sprintf("%g req/s", p.MaxRPS)
				}
				fmt.Fprintf(w, "%s\n  %s\n  base_url  %s\n  model     %s\n  key       %s\n  max_rps   %s\n",
					p.Name, p.Description, p.BaseURL, model, key, rps)
				if cmd.Bool("verbose") {
					for _, n := range p.Notes {
						fmt.Fprintf(w, "  - %s\n", n)
					}
				}
			}
			fmt.Fprintln(w, "\nEvery field can be overridden in endpoints.yaml; docs/endpoints.md explains each system.")
			return nil
		})
}

func initCommand() *cli.Command {
	return command("init", "write a commented endpoints.yaml to start from", "tracker init [--output endpoints.yaml]",
		[]cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "endpoints.yaml", Usage: "the file to write (never overwritten)"}},
		func(ctx context.Context, cmd *cli.Command) error {
			path := cmd.String("output")
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return usagef("init: %s already exists: not overwriting it (give --output FILE)", path)
			}
			if err != nil {
				return fmt.Errorf("init: %w", err)
			}
			if _, err := f.WriteString(starterConfig()); err != nil {
				f.Close()
				return fmt.Errorf("init: writing %s: %w", path, err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("init: writing %s: %w", path, err)
			}
			fmt.Fprintf(cmd.Root().Writer, "wrote %s: edit it, then: tracker run --config %s --dataset squad --limit 20\n", path, path)
			return nil
		})
}

// starterConfig is the file `tracker init` writes. It parses as it is (the tests load it).
func starterConfig() string {
	var b strings.Builder
	b.WriteString(`# tracker endpoints file. Each endpoint is one OpenAI-compatible server to measure.
# A preset fills base_url, model, the key source, hardware and max_rps; every field set here
# overrides the preset's. List the presets: tracker endpoints --verbose. Systems and their
# quirks: docs/endpoints.md.
#
# Fields: name (required, no spaces), preset, base_url (with /v1), model,
#   api_key_env (a variable holding the key) or api_key_command (a command printing it: run
#   once at the start, re-run once on a 401; the key is never stored or printed),
#   max_rps (requests/s cap for this endpoint; 0 = none), hardware, headers,
#   metrics_url (the server's Prometheus /metrics when it is not at the base URL's origin:
#   docs/telemetry.md).

# The endpoint the report compares the others against.
baseline: metis

endpoints:
  # ALCF Metis: SambaNova SN40L behind the ALCF inference gateway. The key is a Globus
  # access token from ALCF's helper script (inference_auth_token.py, run from its folder).
  - name: metis
    preset: alcf-metis
    # model: gpt-oss-120b
    # api_key_command: python inference_auth_token.py get_access_token

  # ALCF Sophia: vLLM on A100 behind the same gateway. Its relay delivers the stream in
  # bursts: compare E2E and server timings, not ITL/TPOT. Cold models: tracker run --wait-cold 15m
  - name: sophia
    preset: alcf-sophia

  # SambaNova Cloud: export SAMBANOVA_API_KEY=...
  # - name: sambacloud
  #   preset: sambanova

  # A local vLLM server (vllm serve openai/gpt-oss-120b):
  # - name: local-vllm
  #   preset: vllm
  #   base_url: http://127.0.0.1:8000/v1
  #   hardware: 1x H100
  #   price_per_hour: 4.0        # USD per node-hour: the report gives cost per million output tokens per load level
  #   nodes: 1

  # llama.cpp (llama-server) and Ollama:
  # - name: llamacpp
  #   preset: llamacpp
  # - name: ollama
  #   preset: ollama

  # Any other OpenAI-compatible server, without a preset:
  # - name: other
  #   base_url: https://example.org/v1
  #   model: my-model
  #   api_key_env: OTHER_API_KEY   # or none: send no key, whatever a preset says
  #   max_rps: 5
  #   input_price_per_mtok: 0.5    # hosted APIs price tokens (USD per million)
  #   output_price_per_mtok: 1.5
`)
	return b.String()
}
