// Package dataset turns prompt sources (SQuAD JSON, JSONL in the HuggingFace row shape, ...)
// into the ordered prompt set a run sends, and scores answers against gold ones.
//
// It owns the prompt-source formats and their loaders (with bounds and errors naming the file,
// line and field), the prompt order and selection, and answer scoring (exact match, F1).
// It does not send requests (package runner), count tokens (package tokens) or store
// anything (package store).
package dataset
