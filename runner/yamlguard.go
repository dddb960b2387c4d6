package runner

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Bounds on an endpoints file, so a small hostile file cannot take the memory of a large one
// (a YAML "billion laughs": anchors whose aliases expand exponentially).
const (
	MaxConfigBytes = 1 << 20 // 1 MiB: far above any real endpoints file
	MaxConfigNodes = 100_000 // YAML nodes after expanding every alias
)

// checkYAMLSize refuses a file whose expansion (every alias replaced by what it names) has
// more than MaxConfigNodes nodes. It reads the syntax tree, where an alias is one node, and
// weighs each anchor once, so the check itself is linear in the file.
func checkYAMLSize(b []byte) error {
	f, err := parser.ParseBytes(b, 0)
	if err != nil {
		return nil // the decoder reports syntax errors with their line
	}
	anchors := map[string]int{}
	total := 0
	for _, doc := range f.Docs {
		total += yamlWeight(doc, anchors)
		if total > MaxConfigNodes {
			break
		}
	}
	if total > MaxConfigNodes {
		return fmt.Errorf("more than %d YAML nodes once its aliases are expanded (an alias bomb?)", MaxConfigNodes)
	}
	return nil
}

// yamlWeight is how many nodes n stands for once aliases are expanded (capped, so sums of
// huge weights cannot overflow).
func yamlWeight(n ast.Node, anchors map[string]int) int {
	switch x := n.(type) {
	case nil:
		return 0
	case *ast.DocumentNode:
		return yamlWeight(x.Body, anchors)
	case *ast.MappingNode:
		return collectionWeight(x.Values, anchors)
	case *ast.MappingValueNode:
		return capped(yamlWeight(x.Key, anchors) + yamlWeight(x.Value, anchors))
	case *ast.MappingKeyNode:
		return capped(1 + yamlWeight(x.Value, anchors))
	case *ast.SequenceNode:
		return collectionWeight(x.Values, anchors)
	case *ast.AnchorNode:
		w := yamlWeight(x.Value, anchors)
		if x.Name != nil {
			anchors[x.Name.String()] = w
		}
		return w
	case *ast.AliasNode:
		if x.Value != nil {
			return max(1, anchors[x.Value.String()])
		}
		return 1
	case *ast.TagNode:
		return capped(1 + yamlWeight(x.Value, anchors))
	}
	return 1
}

// collectionWeight is the weight of a mapping or a sequence: itself and its values.
func collectionWeight[N ast.Node](values []N, anchors map[string]int) int {
	w := 1
	for _, v := range values {
		w = capped(w + yamlWeight(v, anchors))
	}
	return w
}

// capped keeps a weight just above the limit, so that sums of huge weights cannot overflow.
func capped(w int) int { return min(w, MaxConfigNodes+1) }
