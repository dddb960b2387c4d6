package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/trackerbench/tracker/bench"
)

// Number formatting shared by the markdown and the HTML page.

func fmtMS(x Num) string {
	f := float64(x)
	switch {
	case !x.Valid():
		return "–"
	case math.Abs(f) >= 100:
		return groupThousands(strconv.FormatFloat(f, 'f', 0, 64)) + " ms"
	case math.Abs(f) >= 10:
		return strconv.FormatFloat(f, 'f', 1, 64) + " ms"
	default:
		return strconv.FormatFloat(f, 'f', 2, 64) + " ms"
	}
}

func fmtNum(x Num, decimals int) string {
	if !x.Valid() {
		return "–"
	}
	return groupThousands(strconv.FormatFloat(float64(x), 'f', decimals, 64))
}

func fmtTokS(x Num) string {
	if !x.Valid() {
		return "–"
	}
	d := 1
	if math.Abs(float64(x)) >= 100 {
		d = 0
	}
	return fmtNum(x, d) + " tok/s"
}

func fmtPct(x Num) string {
	if !x.Valid() {
		return "–"
	}
	return strconv.FormatFloat(100*float64(x), 'f', 1, 64) + "%"
}

func fmtRatio(x Num) string {
	if !x.Valid() {
		return "–"
	}
	return strconv.FormatFloat(float64(x), 'f', 2, 64) + "×"
}

func fmtCI(iv Interval) string {
	if math.IsNaN(iv.Lo) || math.IsNaN(iv.Hi) {
		return "–"
	}
	return strconv.FormatFloat(iv.Lo, 'f', 2, 64) + "–" + strconv.FormatFloat(iv.Hi, 'f', 2, 64) + "×"
}

func fmtP(p Num) string {
	switch {
	case !p.Valid():
		return "no test"
	case p < 0.001:
		return "p < 0.001"
	default:
		return "p = " + strconv.FormatFloat(float64(p), 'f', 3, 64)
	}
}

func fmtX(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func fmtInt(n int) string { return groupThousands(strconv.Itoa(n)) }

// groupThousands puts commas in the integer part of a formatted number.
func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	if len(intPart) > 3 {
		var b strings.Builder
		pre := len(intPart) % 3
		if pre > 0 {
			b.WriteString(intPart[:pre])
		}
		for i := pre; i < len(intPart); i += 3 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(intPart[i : i+3])
		}
		intPart = b.String()
	}
	if frac != "" {
		intPart += "." + frac
	}
	if neg {
		return "-" + intPart
	}
	return intPart
}

// mdCell makes text safe inside a markdown table cell: no pipes, no newlines, no HTML.
func mdCell(s string) string {
	r := strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "&", "&amp;", "`", "'")
	return r.Replace(s)
}

// fmtLoad is a load curve's x value as a load level (bench.LoadLabel).
func fmtLoad(xname string, x float64) string {
	if xname == xConcurrency {
		return bench.LoadLabel(int(x), 0)
	}
	return bench.LoadLabel(0, x)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%s %s", fmtInt(n), many)
}

// fmtUSD is a cost in dollars with four significant digits, or "–".
func fmtUSD(x Num) string {
	if !x.Valid() {
		return "–"
	}
	return "$" + strconv.FormatFloat(float64(x), 'g', 4, 64)
}

// correctCost is the cost per correct answer, with how many answers were correct.
func correctCost(e *EndpointSummary) string {
	if !e.CostPerCorrect.Valid() {
		return "–"
	}
	return fmt.Sprintf("%s (%d correct)", fmtUSD(e.CostPerCorrect), e.Correct)
}
