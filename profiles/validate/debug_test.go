package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/nhsconform/conform/profiles/fhirxml"
	fhirmodel "github.com/nhsconform/conform/profiles/model"
)

func TestDebugXML(t *testing.T) {
	f := os.Getenv("DEBUG_XML")
	if f == "" {
		return
	}
	set := loadCore(t)
	dec := fhirxml.NewDecoder(fhirmodel.New(set.ResolveJSON))
	data, _ := os.ReadFile(f)
	m, err := dec.Decode(data)
	b, _ := json.MarshalIndent(m, "", " ")
	fmt.Println(string(b), err)
	v := newCoreValidator(t)
	v.opts.DecodeXML = dec.Decode
	out, err := v.Validate(context.Background(), data)
	fmt.Println(out, err)
}
