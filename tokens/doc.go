// Package tokens counts tokens the way the runner, the datasets and the simulator all must:
// with one real tokenizer (tiktoken's o200k_base, the gpt-oss family's, compiled in so it
// works offline).
//
// It owns the tokenizer and its data. It does not decide what to count: callers (runner,
// dataset, sim) choose which text is prompt and which is output.
package tokens
