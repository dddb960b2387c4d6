package report

import (
	"fmt"
	"image/color"
	"slices"
)

// endpointPalette is Okabe and Ito's colour-blind-safe palette (black dropped, grey last),
// then Tableau's darker tones: one colour per endpoint, the same in every chart of report.md's
// SVG figures and of index.html.
var endpointPalette = [...]color.RGBA{
	{0x00, 0x72, 0xB2, 0xff}, // blue
	{0xE6, 0x9F, 0x00, 0xff}, // orange
	{0x00, 0x9E, 0x73, 0xff}, // bluish green
	{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	{0xF0, 0xE4, 0x42, 0xff}, // yellow
	{0x8C, 0x56, 0x4B, 0xff}, // brown
	{0x7F, 0x7F, 0x7F, 0xff}, // grey
}

// Palette maps each endpoint of a report to its colour: by the endpoint's place in the
// report's sorted endpoint list, so the same report always colours an endpoint the same way.
type Palette struct {
	endpoints []string
}

// NewPalette builds the palette of a report's endpoints (sorted; duplicates ignored).
func NewPalette(endpoints []string) Palette {
	eps := slices.Clone(endpoints)
	slices.Sort(eps)
	return Palette{endpoints: slices.Compact(eps)}
}

// Color is the endpoint's colour; an endpoint the palette does not know gets the last (grey).
func (p Palette) Color(endpoint string) color.RGBA {
	i, ok := slices.BinarySearch(p.endpoints, endpoint)
	if !ok {
		return endpointPalette[len(endpointPalette)-1]
	}
	return endpointPalette[i%len(endpointPalette)]
}

// Hex is the endpoint's colour as "#rrggbb", for ECharts.
func (p Palette) Hex(endpoint string) string {
	c := p.Color(endpoint)
	return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B)
}
