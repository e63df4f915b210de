package validate

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

func TestExploreClinical(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		return
	}
	v := newCoreValidator(t)
	var names0 map[string]bool
	if os.Getenv("EXPLORE") != "all" {
		names0 = clinicalNames(t)
	}
	ex := readExamples(t, names0)
	names := make([]string, 0, len(ex))
	for n := range ex {
		names = append(names, n)
	}
	sort.Strings(names)
	counts := map[string]int{}
	bad := 0
	for _, n := range names {
		out, err := v.Validate(context.Background(), ex[n])
		if err != nil {
			t.Fatal(err)
		}
		has := false
		for _, is := range out.Issues {
			if is.Severity == "error" || is.Severity == "fatal" || strings.HasPrefix(is.MessageID, "constraint-") {
				has = true
				counts[is.MessageID]++
				fmt.Printf("%s\t%s\t%s\t%s\n", n, is.MessageID, is.Expression, is.Message)
			}
		}
		if has {
			bad++
		}
	}
	fmt.Println("files with errors:", bad, "of", len(names), counts)
}
