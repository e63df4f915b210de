package snapshot

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// maxElements bounds the size of one generated snapshot.
const maxElements = 50000

// walker applies one differential to its base snapshot.
type walker struct {
	g        *Generator
	url      string
	diff     []element
	used     []bool
	chain    []string
	result   []element
	warnings []Warning
	// loosened holds the first place the differential loosens its base; the
	// derived value is applied, as the reference implementation does, and
	// the generation ends with this error beside the snapshot.
	loosened *LooseningError
}

// pathMap translates base element paths into the differential's paths (src)
// and the generated snapshot's paths (dst). root is the prefix of the base
// paths being replaced: a data type's name when walking into a data type, the
// target of a contentReference, or "" when base paths are used as they are.
type pathMap struct {
	root, src, dst string
	// from is the URL of the definition whose snapshot is walked.
	from string
}

func (m pathMap) source(p string) string {
	if m.root == "" || !strings.HasPrefix(p, m.root) {
		return p
	}
	return m.src + p[len(m.root):]
}

func (m pathMap) dest(p string) string {
	if m.root == "" || !strings.HasPrefix(p, m.root) {
		return p
	}
	return m.dst + p[len(m.root):]
}

// mode says how the first base element of a walk is to be treated.
type mode int

const (
	// modeNormal walks base and differential together.
	modeNormal mode = iota
	// modeSlice walks one slice: the first differential element is the slice
	// itself, even where the base element is sliced.
	modeSlice
	// modeTypeSlice walks a type slice given by a type-named choice path
	// (valueQuantity): the slice is named after the path and takes its type.
	modeTypeSlice
)

func (w *walker) warn(p, format string, args ...any) {
	w.warnings = append(w.warnings, Warning{Profile: w.url, Path: p, Message: fmt.Sprintf(format, args...)})
}

func (w *walker) fail(p, format string, args ...any) error {
	return &DefinitionError{Profile: w.url, Path: p, Message: fmt.Sprintf(format, args...)}
}

func (w *walker) add(e element) error {
	if len(w.result) >= maxElements {
		return w.fail(path(e), "snapshot exceeds %d elements", maxElements)
	}
	delete(e, "id")
	w.result = append(w.result, e)
	return nil
}

func (w *walker) run(base []element, from string) error {
	_, err := w.walk(base, 0, len(base)-1, 0, len(w.diff)-1, pathMap{from: from}, modeNormal)
	return err
}

// diffMatches returns the indexes of differential elements in [dc, dl] whose
// path names cpath.
func (w *walker) diffMatches(cpath string, dc, dl int) []int {
	var out []int
	for i := dc; i <= dl && i < len(w.diff); i++ {
		if pathMatches(path(w.diff[i]), cpath) {
			out = append(out, i)
		}
	}
	return out
}

// endOf returns the index of the last descendant of list[i] that follows it.
func endOf(list []element, i int) int {
	prefix := path(list[i]) + "."
	end := i
	for end+1 < len(list) && strings.HasPrefix(path(list[end+1]), prefix) {
		end++
	}
	return end
}

// walksInto reports whether the base lists children of list[i-1] at i.
func walksInto(list []element, i int) bool {
	if i <= 0 || i >= len(list) {
		return false
	}
	return strings.HasPrefix(path(list[i]), path(list[i-1])+".")
}

// childRange returns the run of differential elements in [dc, dl] under
// parent, starting at the first one found.
func (w *walker) childRange(parent string, dc, dl int) (int, int, bool) {
	prefix := parent + "."
	for i := dc; i <= dl && i < len(w.diff); i++ {
		if strings.HasPrefix(path(w.diff[i]), prefix) {
			end := i
			for end+1 <= dl && end+1 < len(w.diff) && strings.HasPrefix(path(w.diff[end+1]), prefix) {
				end++
			}
			return i, end, true
		}
	}
	return 0, 0, false
}

func setBase(out, cur element) {
	if b, ok := cur["base"].(map[string]any); ok {
		out["base"] = deepCopy(b)
		return
	}
	b := map[string]any{"path": path(cur)}
	if v, ok := cur["min"]; ok {
		b["min"] = v
	}
	if v, ok := cur["max"]; ok {
		b["max"] = v
	}
	out["base"] = b
}

func (w *walker) copyBase(cur element, pm pathMap) element {
	out := copyElement(cur)
	out["path"] = pm.dest(path(cur))
	setBase(out, cur)
	fillConstraintSources(out, pm.from)
	return out
}

// fillConstraintSources names from as the source of inherited constraints
// that name none.
func fillConstraintSources(e element, from string) {
	if from == "" {
		return
	}
	for _, c := range anyList(e["constraint"]) {
		if m, ok := c.(map[string]any); ok && str(m, "source") == "" {
			m["source"] = from
		}
	}
}

// walk processes base[bc..bl] against diff[dc..dl]; it returns the first
// element it added.
func (w *walker) walk(base []element, bc, bl, dc, dl int, pm pathMap, md mode) (element, error) {
	var first element
	start := bc
	note := func(e element) {
		if first == nil {
			first = e
		}
	}
	for bc <= bl {
		cur := base[bc]
		cpath := pm.source(path(cur))
		matches := w.diffMatches(cpath, dc, dl)
		atStart := bc == start && md != modeNormal
		if !hasSlicing(cur) || atStart {
			switch {
			case len(matches) == 0:
				out := w.copyBase(cur, pm)
				if err := w.add(out); err != nil {
					return first, err
				}
				note(out)
				bc++
				if cs, ce, ok := w.childRange(cpath, dc, dl); ok && !walksInto(base, bc) && strings.Contains(path(out), ".") {
					if err := w.expand(base, out, cpath, cs, ce, pm); err != nil {
						return first, err
					}
					dc = ce + 1
				}
			case len(matches) == 1 && (atStart || w.isPlain(w.diff[matches[0]], cpath, md != modeNormal)):
				out, next, err := w.single(base, bc, matches[0], dl, pm, atStart && md == modeTypeSlice)
				if err != nil {
					return first, err
				}
				note(out)
				bc++
				dc = next
			case md == modeNormal && w.isTypeShortcut(matches, cpath):
				out, next, err := w.typeSlices(base, bc, matches, pm)
				if err != nil {
					return first, err
				}
				note(out)
				bc = endOf(base, bc) + 1
				dc = next
			default:
				out, next, err := w.slices(base, bc, matches, pm)
				if err != nil {
					return first, err
				}
				note(out)
				bc = endOf(base, bc) + 1
				dc = next
			}
			continue
		}
		out, nbc, next, err := w.slicedBase(base, bc, bl, matches, dc, pm)
		if err != nil {
			return first, err
		}
		note(out)
		bc = nbc
		if next > dc {
			dc = next
		}
	}
	return first, nil
}

// isPlain reports whether a single differential match constrains the base
// element without slicing it.
func (w *walker) isPlain(d element, cpath string, inSlice bool) bool {
	if hasSlicing(d) {
		return false
	}
	if isExtensionPath(cpath) && sliceName(d) != "" {
		return false
	}
	if !inSlice && renamedType(path(d), cpath) != "" {
		return false
	}
	return true
}

// isTypeShortcut reports whether the matches are type-named choice paths
// (valueQuantity, valueString) with no slicing declared: an implied slicing
// of the choice by type.
func (w *walker) isTypeShortcut(matches []int, cpath string) bool {
	if !isChoice(cpath) {
		return false
	}
	renamed := 0
	for i, m := range matches {
		d := w.diff[m]
		switch {
		case renamedType(path(d), cpath) != "" && sliceName(d) == "":
			renamed++
		case i == 0 && path(d) == cpath && sliceName(d) == "" && !hasSlicing(d):
		default:
			return false
		}
	}
	return renamed > 0
}

// single applies one differential element to the base element base[bc], then
// walks into its type when the differential goes deeper than the base.
func (w *walker) single(base []element, bc, mi, dl int, pm pathMap, typeSlice bool) (element, int, error) {
	cur := base[bc]
	d := w.diff[mi]
	w.used[mi] = true
	var out element
	if ts := types(d); len(ts) == 1 && str(ts[0], "code") != "Reference" && len(typeProfiles(ts[0])) > 0 {
		out = w.profileTemplate(cur, ts[0], str(d, "id"))
	}
	if out == nil {
		out = copyElement(cur)
		fillConstraintSources(out, pm.from)
	}
	out["path"] = pm.dest(path(cur))
	setBase(out, cur)
	delete(out, "slicing")
	if sn := sliceName(d); sn != "" {
		out["sliceName"] = sn
		if _, hasMin := d["min"]; !hasMin && sliceName(cur) == "" && !strings.HasSuffix(path(cur), "xtension.value[x]") {
			out["min"] = json.Number("0")
		}
	}
	if rt := renamedType(path(d), pm.source(path(cur))); rt != "" {
		narrowTypes(out, typeForRename(rt, cur))
		if typeSlice && sliceName(d) == "" {
			out["sliceName"] = tail(path(d))
		}
	}
	if err := w.merge(out, d); err != nil {
		return nil, 0, err
	}
	if err := w.add(out); err != nil {
		return nil, 0, err
	}
	next := mi + 1
	if !strings.Contains(path(out), ".") {
		return out, next, nil
	}
	if walksInto(base, bc+1) {
		return out, next, nil
	}
	cs, ce, ok := w.childRange(path(d), next, dl)
	if !ok || cs != next {
		return out, next, nil
	}
	if err := w.expand(base, out, path(d), cs, ce, pm); err != nil {
		return nil, 0, err
	}
	return out, ce + 1, nil
}

// narrowTypes keeps only the type with the given code (or adds it).
func narrowTypes(e element, code string) {
	if code == "" {
		return
	}
	var keep []any
	for _, t := range types(e) {
		if str(t, "code") == code {
			keep = append(keep, t)
		}
	}
	if keep == nil {
		keep = []any{map[string]any{"code": code}}
	}
	e["type"] = keep
}

// profileTemplate starts an element from the root of the type's profile (an
// extension definition or a data type profile), so its constraints and
// definitions are inherited; the base element's own settings override it.
func (w *walker) profileTemplate(cur element, t map[string]any, at string) element {
	purl := typeProfiles(t)[0]
	res := w.g.snapshotLocked(purl, w.chain)
	if res.err != nil {
		w.warn(at, "type profile %s: %v", purl, res.err)
		return nil
	}
	elems := elementsOf(res.sd, "snapshot")
	if len(elems) == 0 {
		w.warn(at, "type profile %s has no snapshot", purl)
		return nil
	}
	tpl := copyElement(elems[0])
	tpl["path"] = path(cur)
	delete(tpl, "sliceName")
	if str(t, "code") != "Extension" {
		if v, ok := cur["min"]; ok {
			tpl["min"] = v
		}
		if v, ok := cur["max"]; ok {
			tpl["max"] = v
		}
	}
	return fillFromBase(tpl, cur)
}

// fillFromBase completes a type profile's root element with what the element
// being constrained says and the root leaves unsaid, as the reference
// implementation's fillOutFromBase does: the extension definition's own
// cardinality, bindings and values win over the base element's.
func fillFromBase(tpl, usage element) element {
	for _, k := range []string{"sliceName", "label", "definition", "short", "comment", "requirements", "min", "max", "maxLength", "mustSupport", "isSummary", "isModifier", "isModifierReason", "mustHaveValue", "binding", "example"} {
		if _, has := tpl[k]; !has {
			if v, ok := usage[k]; ok {
				tpl[k] = deepCopy(v)
			}
		}
	}
	for k, v := range usage {
		if p := valuePrefix(k); p != "" && p != "defaultValue" && !hasValuePrefix(tpl, p) {
			tpl[k] = deepCopy(v)
		}
	}
	if v, ok := usage["code"].([]any); ok {
		tpl["code"] = unionValues(anyList(tpl["code"]), v)
	}
	if v, ok := usage["alias"].([]any); ok {
		tpl["alias"] = unionStrings(anyList(tpl["alias"]), v)
	}
	if v, ok := usage["constraint"].([]any); ok {
		tpl["constraint"] = addMissing(anyList(tpl["constraint"]), v, "key")
	}
	if v, ok := usage["extension"].([]any); ok {
		tpl["extension"] = addMissing(anyList(tpl["extension"]), v, "url")
	}
	return tpl
}

func hasValuePrefix(e element, prefix string) bool {
	for k := range e {
		if valuePrefix(k) == prefix {
			return true
		}
	}
	return false
}

// unionValues appends the values of src that dst lacks, compared as JSON.
func unionValues(dst, src []any) []any {
	out := append([]any{}, dst...)
	for _, v := range src {
		dup := false
		for _, o := range out {
			if reflect.DeepEqual(o, v) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, deepCopy(v))
		}
	}
	return out
}

// addMissing appends the objects of src whose key property (a constraint's
// key, an extension's url) no object of dst has.
func addMissing(dst, src []any, key string) []any {
	out := append([]any{}, dst...)
	have := map[string]bool{}
	for _, x := range dst {
		if m, ok := x.(map[string]any); ok {
			have[str(m, key)] = true
		}
	}
	for _, x := range src {
		if m, ok := x.(map[string]any); ok && !have[str(m, key)] {
			out = append(out, deepCopy(m))
			have[str(m, key)] = true
		}
	}
	return out
}

func anyList(v any) []any {
	a, _ := v.([]any)
	return a
}

func unionStrings(dst, src []any) []any {
	seen := map[string]bool{}
	for _, v := range dst {
		if s, ok := v.(string); ok {
			seen[s] = true
		}
	}
	for _, v := range src {
		if s, ok := v.(string); ok && !seen[s] {
			dst = append(dst, s)
			seen[s] = true
		}
	}
	return dst
}

// mergeConstraints adds src constraints to dst, a constraint with the key of
// an existing one replacing it.
func mergeConstraints(dst, src []any, source string) []any {
	out := append([]any{}, dst...)
	for _, c := range src {
		cm, ok := c.(map[string]any)
		if !ok {
			continue
		}
		nc := copyElement(cm)
		if source != "" && str(nc, "source") == "" {
			nc["source"] = source
		}
		key := str(cm, "key")
		replaced := false
		for i, o := range out {
			if om, ok := o.(map[string]any); ok && key != "" && str(om, "key") == key {
				out[i] = nc
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, nc)
		}
	}
	return out
}

// expand walks into the type of out (or its contentReference) to apply
// differential elements diff[cs..ce] that go below it.
func (w *walker) expand(base []element, out element, srcPath string, cs, ce int, outer pathMap) error {
	if ref := str(out, "contentReference"); ref != "" {
		return w.expandReference(base, out, ref, srcPath, cs, ce, outer.from)
	}
	ts := types(out)
	if len(ts) == 0 {
		return w.fail(path(out), "differential goes below an element with no type")
	}
	t := ts[0]
	if len(ts) > 1 && !allReferences(ts) {
		var err error
		if t, err = w.typeWithChildren(out, ts, srcPath, cs, ce); err != nil {
			return err
		}
	}
	dt, err := w.typeDefinition(t, path(w.diff[cs]))
	if err != nil {
		return err
	}
	elems := elementsOf(dt, "snapshot")
	if len(elems) < 2 {
		return w.fail(path(out), "type %s has no elements to constrain", str(t, "code"))
	}
	pm := pathMap{root: path(elems[0]), src: srcPath, dst: path(out), from: str(dt, "url")}
	_, err = w.walk(elems, 1, len(elems)-1, cs, ce, pm, modeNormal)
	return err
}

func (w *walker) expandReference(base []element, out element, ref, srcPath string, cs, ce int, from string) error {
	target := ref
	if i := strings.IndexByte(ref, '#'); i >= 0 {
		target = ref[i+1:]
	}
	ti := -1
	for i, e := range base {
		if str(e, "id") == target || (str(e, "id") == "" && path(e) == target) {
			ti = i
			break
		}
	}
	if ti < 0 {
		for i, e := range base {
			if path(e) == target {
				ti = i
				break
			}
		}
	}
	if ti < 0 {
		return w.fail(path(out), "contentReference %s not found in the base", ref)
	}
	tgt := base[ti]
	delete(out, "contentReference")
	if t, ok := tgt["type"]; ok {
		out["type"] = deepCopy(t)
	}
	end := endOf(base, ti)
	if end == ti {
		return w.fail(path(out), "contentReference %s has no children", ref)
	}
	pm := pathMap{root: path(tgt), src: srcPath, dst: path(out), from: from}
	_, err := w.walk(base, ti+1, end, cs, ce, pm, modeNormal)
	return err
}

// typeDefinition returns the snapshot-bearing definition of a type: its
// first profile when that resolves, else the base type.
func (w *walker) typeDefinition(t map[string]any, at string) (map[string]any, error) {
	if profiles := typeProfiles(t); len(profiles) > 0 {
		res := w.g.snapshotLocked(profiles[0], w.chain)
		if res.err == nil {
			return res.sd, nil
		}
		w.warn(at, "type profile %s: %v; using the base type", profiles[0], res.err)
	}
	code := str(t, "code")
	if code == "" {
		return nil, w.fail(at, "type without a code")
	}
	url := code
	if !strings.Contains(code, ":") {
		url = "http://hl7.org/fhir/StructureDefinition/" + code
	}
	res := w.g.snapshotLocked(url, w.chain)
	if res.err != nil {
		return nil, fmt.Errorf("expand %s into type %s: %w", at, code, res.err)
	}
	return res.sd, nil
}

func extensionSlicing() map[string]any {
	return map[string]any{
		"discriminator": []any{map[string]any{"type": "value", "path": "url"}},
		"ordered":       false,
		"rules":         "open",
	}
}

func typeSlicing() map[string]any {
	return map[string]any{
		"discriminator": []any{map[string]any{"type": "type", "path": "$this"}},
		"ordered":       false,
		"rules":         "closed",
	}
}

// typeSlices handles type-named choice paths (valueQuantity) against an
// unsliced choice: a slicing by type with one slice per named type.
func (w *walker) typeSlices(base []element, bc int, matches []int, pm pathMap) (element, int, error) {
	cur := base[bc]
	entry := copyElement(cur)
	entry["path"] = pm.dest(path(cur))
	setBase(entry, cur)
	slices := matches
	if d := w.diff[matches[0]]; path(d) == pm.source(path(cur)) {
		w.used[matches[0]] = true
		if err := w.merge(entry, d); err != nil {
			return nil, 0, err
		}
		slices = matches[1:]
	} else {
		var ts []any
		for _, m := range slices {
			code := typeForRename(renamedType(path(w.diff[m]), pm.source(path(cur))), cur)
			found := false
			for _, t := range types(cur) {
				if str(t, "code") == code {
					ts = append(ts, deepCopy(t))
					found = true
				}
			}
			if !found {
				ts = append(ts, map[string]any{"code": code})
			}
		}
		entry["type"] = ts
	}
	entry["slicing"] = typeSlicing()
	if err := w.add(entry); err != nil {
		return nil, 0, err
	}
	nbl := endOf(base, bc)
	next := matches[len(matches)-1] + 1
	for _, m := range slices {
		de := endOf(w.diff, m)
		if _, err := w.walk(base, bc, nbl, m, de, pm, modeTypeSlice); err != nil {
			return nil, 0, err
		}
		next = de + 1
	}
	return entry, next, nil
}

// slices handles a differential that slices an element the base does not
// slice: the slicing entry, then each slice walked against the base element.
func (w *walker) slices(base []element, bc int, matches []int, pm pathMap) (element, int, error) {
	cur := base[bc]
	d0 := w.diff[matches[0]]
	nbl := endOf(base, bc)
	if !hasSlicing(d0) && !isExtensionPath(path(cur)) {
		if isChoice(path(cur)) {
			w.warn(str(d0, "id"), "choice sliced without a slicing; slicing by type assumed")
		} else {
			w.warn(str(d0, "id"), "differential slices %s without declaring a slicing", path(cur))
		}
	}
	var entry element
	startI := 0
	if len(matches) > 1 && hasSlicing(d0) && sliceName(d0) == "" && (nbl > bc || matches[1] > matches[0]+1) {
		e, err := w.walk(base, bc, nbl, matches[0], endOf(w.diff, matches[0]), pm, modeSlice)
		if err != nil {
			return nil, 0, err
		}
		e["slicing"] = deepCopy(d0["slicing"])
		entry = e
		startI = 1
	} else {
		entry = w.copyBase(cur, pm)
		switch {
		case hasSlicing(d0):
			entry["slicing"] = deepCopy(d0["slicing"])
		case isChoice(path(cur)):
			entry["slicing"] = typeSlicing()
		case isExtensionPath(path(cur)):
			entry["slicing"] = extensionSlicing()
		default:
			entry["slicing"] = map[string]any{"rules": "open"}
		}
		if err := w.add(entry); err != nil {
			return nil, 0, err
		}
		if sliceName(d0) == "" {
			w.used[matches[0]] = true
			if err := w.merge(entry, d0); err != nil {
				return nil, 0, err
			}
			startI = 1
		}
	}
	next := matches[len(matches)-1] + 1
	for _, m := range matches[startI:] {
		de := endOf(w.diff, m)
		if _, err := w.walk(base, bc, nbl, m, de, pm, modeSlice); err != nil {
			return nil, 0, err
		}
		next = de + 1
	}
	return entry, next, nil
}

// sliceKey is the name a differential element gives a slice: its sliceName,
// or the type-named choice path (valueQuantity) it uses.
func sliceKey(d element, cpath string) string {
	if sn := sliceName(d); sn != "" {
		return sn
	}
	if renamedType(path(d), cpath) != "" {
		return tail(path(d))
	}
	return ""
}

// slicedBase handles an element the base already slices: the slicing entry,
// the base's slices (constrained where the differential names them, with any
// re-slices after them) and new slices at the end.
func (w *walker) slicedBase(base []element, bc, bl int, matches []int, dc int, pm pathMap) (element, int, int, error) {
	cur := base[bc]
	cpath := pm.source(path(cur))
	entryEnd := endOf(base, bc)
	groupEnd := entryEnd
	for groupEnd+1 <= bl {
		p := path(base[groupEnd+1])
		if pathMatches(p, path(cur)) && sliceName(base[groupEnd+1]) != "" {
			groupEnd = endOf(base, groupEnd+1)
			continue
		}
		break
	}
	if len(matches) == 0 {
		var first element
		for i := bc; i <= groupEnd; i++ {
			out := w.copyBase(base[i], pm)
			if first == nil {
				first = out
			}
			if err := w.add(out); err != nil {
				return nil, 0, 0, err
			}
		}
		return first, groupEnd + 1, dc, nil
	}
	next := dc
	entry := w.copyBase(cur, pm)
	rest := matches
	var entryDiff = -1
	if d0 := w.diff[matches[0]]; sliceKey(d0, cpath) == "" {
		entryDiff = matches[0]
		rest = matches[1:]
		w.used[entryDiff] = true
		if hasSlicing(d0) {
			if err := w.checkSlicing(d0, cur); err != nil {
				return nil, 0, 0, err
			}
		}
		slicing := entry["slicing"]
		if err := w.merge(entry, d0); err != nil {
			return nil, 0, 0, err
		}
		entry["slicing"] = mergeSlicing(slicing, d0["slicing"])
		next = entryDiff + 1
	}
	if err := w.add(entry); err != nil {
		return nil, 0, 0, err
	}
	if entryEnd > bc {
		cs, ce := 1, 0
		if entryDiff >= 0 {
			cs, ce = entryDiff+1, endOf(w.diff, entryDiff)
		}
		if _, err := w.walk(base, bc+1, entryEnd, cs, ce, pm, modeNormal); err != nil {
			return nil, 0, 0, err
		}
		if ce+1 > next {
			next = ce + 1
		}
	} else if entryDiff >= 0 {
		if cs, ce, ok := w.childRange(path(w.diff[entryDiff]), entryDiff+1, endOf(w.diff, entryDiff)); ok {
			if err := w.expand(base, entry, path(w.diff[entryDiff]), cs, ce, pm); err != nil {
				return nil, 0, 0, err
			}
			next = ce + 1
		}
	}
	consumed := make(map[int]bool)
	for i := entryEnd + 1; i <= groupEnd; {
		s := base[i]
		sEnd := endOf(base, i)
		name := sliceName(s)
		matched := false
		for _, m := range rest {
			if !consumed[m] && sliceKey(w.diff[m], cpath) == name {
				consumed[m] = true
				matched = true
				de := endOf(w.diff, m)
				if _, err := w.walk(base, i, sEnd, m, de, pm, modeSlice); err != nil {
					return nil, 0, 0, err
				}
				if de+1 > next {
					next = de + 1
				}
				break
			}
		}
		if !matched {
			for j := i; j <= sEnd; j++ {
				if err := w.add(w.copyBase(base[j], pm)); err != nil {
					return nil, 0, 0, err
				}
			}
		}
		for _, m := range rest {
			if !consumed[m] && strings.HasPrefix(sliceKey(w.diff[m], cpath), name+"/") {
				consumed[m] = true
				de := endOf(w.diff, m)
				if _, err := w.walk(base, i, sEnd, m, de, pm, modeSlice); err != nil {
					return nil, 0, 0, err
				}
				if de+1 > next {
					next = de + 1
				}
			}
		}
		i = sEnd + 1
	}
	closed := false
	if sl, ok := cur["slicing"].(map[string]any); ok && str(sl, "rules") == "closed" {
		closed = true
	}
	for _, m := range rest {
		if consumed[m] {
			continue
		}
		if closed {
			w.warn(str(w.diff[m], "id"), "adds slice %q to a slicing the base closes", sliceKey(w.diff[m], cpath))
		}
		de := endOf(w.diff, m)
		out, err := w.walk(base, bc, entryEnd, m, de, pm, modeSlice)
		if err != nil {
			return nil, 0, 0, err
		}
		if de == m && m+1 < len(w.diff) && out != nil && !walksInto(base, bc+1) {
			if err := w.extensionChildren(out); err != nil {
				return nil, 0, 0, err
			}
		}
		if de+1 > next {
			next = de + 1
		}
	}
	return entry, groupEnd + 1, next, nil
}

// checkSlicing reports a differential slicing that contradicts the base's.
func (w *walker) checkSlicing(d, cur element) error {
	ds, _ := d["slicing"].(map[string]any)
	bs, _ := cur["slicing"].(map[string]any)
	if ds == nil || bs == nil {
		return nil
	}
	dd, bd := anyList(ds["discriminator"]), anyList(bs["discriminator"])
	if len(dd) > 0 && len(bd) > 0 {
		same := len(dd) == len(bd)
		for i := 0; same && i < len(dd); i++ {
			a, _ := dd[i].(map[string]any)
			b, _ := bd[i].(map[string]any)
			same = a != nil && b != nil && str(a, "type") == str(b, "type") && str(a, "path") == str(b, "path")
		}
		if !same {
			w.warn(str(d, "id"), "slicing discriminators differ from the base's")
		}
	}
	if str(bs, "rules") == "closed" && str(ds, "rules") != "" && str(ds, "rules") != "closed" {
		w.warn(str(d, "id"), "slicing rules %s loosen the base's closed slicing", str(ds, "rules"))
	}
	return nil
}

// mergeSlicing applies a differential's slicing to the base's: ordered and
// rules replaced, discriminators added.
func mergeSlicing(base, diff any) any {
	bs, _ := base.(map[string]any)
	ds, _ := diff.(map[string]any)
	if bs == nil {
		if ds == nil {
			return nil
		}
		return deepCopy(ds)
	}
	out := copyElement(bs)
	if ds == nil {
		return out
	}
	for _, k := range []string{"ordered", "rules", "description"} {
		if v, ok := ds[k]; ok {
			out[k] = deepCopy(v)
		}
	}
	disc := anyList(out["discriminator"])
	for _, d := range anyList(ds["discriminator"]) {
		dm, _ := d.(map[string]any)
		if dm == nil {
			continue
		}
		found := false
		for _, e := range disc {
			em, _ := e.(map[string]any)
			if em != nil && str(em, "type") == str(dm, "type") && str(em, "path") == str(dm, "path") {
				found = true
			}
		}
		if !found {
			disc = append(disc, deepCopy(dm))
		}
	}
	if len(disc) > 0 {
		out["discriminator"] = disc
	}
	return out
}

// extensionChildren lists the elements of an extension slice's definition
// under a slice added to an already sliced element, as the reference
// implementation does, so the slice's fixed url appears in the snapshot.
func (w *walker) extensionChildren(out element) error {
	ts := types(out)
	if len(ts) != 1 || str(ts[0], "code") != "Extension" {
		return nil
	}
	dt, err := w.typeDefinition(ts[0], describePath(out))
	if err != nil {
		return err
	}
	elems := elementsOf(dt, "snapshot")
	if len(elems) < 2 {
		return nil
	}
	pm := pathMap{root: path(elems[0]), src: "\x00", dst: path(out), from: str(dt, "url")}
	_, err = w.walk(elems, 1, len(elems)-1, 1, 0, pm, modeNormal)
	return err
}

func describePath(e element) string {
	if sn := sliceName(e); sn != "" {
		return path(e) + ":" + sn
	}
	return path(e)
}

func allReferences(ts []map[string]any) bool {
	for _, t := range ts {
		if str(t, "code") != "Reference" {
			return false
		}
	}
	return true
}

// typeWithChildren picks, for a differential that goes below an element of
// several types, the one type that has every child element it names. The
// reference implementation refuses such a differential; here it is applied to
// that type with a warning, and refused when no single type fits.
func (w *walker) typeWithChildren(out element, ts []map[string]any, srcPath string, cs, ce int) (map[string]any, error) {
	names := map[string]bool{}
	for i := cs; i <= ce; i++ {
		rest := strings.TrimPrefix(path(w.diff[i]), srcPath+".")
		if j := strings.IndexByte(rest, '.'); j >= 0 {
			rest = rest[:j]
		}
		names[rest] = true
	}
	var fits []map[string]any
	for _, t := range ts {
		code := str(t, "code")
		if code == "" || strings.Contains(code, ":") {
			continue
		}
		res := w.g.snapshotLocked("http://hl7.org/fhir/StructureDefinition/"+code, w.chain)
		if res.err != nil {
			continue
		}
		elems := elementsOf(res.sd, "snapshot")
		if len(elems) == 0 {
			continue
		}
		have := map[string]bool{}
		root := path(elems[0]) + "."
		for _, e := range elems[1:] {
			if rest, ok := strings.CutPrefix(path(e), root); ok && !strings.Contains(rest, ".") {
				have[rest] = true
			}
		}
		all := true
		for n := range names {
			if !have[n] && !(strings.HasSuffix(n, "]") && have[strings.TrimSuffix(n, "[x]")+"[x]"]) {
				all = false
			}
		}
		if all {
			fits = append(fits, t)
		}
	}
	if len(fits) != 1 {
		return nil, w.fail(path(out), "differential goes below (%s) an element of several types (%s)", path(w.diff[cs]), strings.Join(typeCodes(out), ", "))
	}
	w.warn(path(w.diff[cs]), "differential goes below %s, an element of several types (%s); applied to %s, the only type with those elements", path(out), strings.Join(typeCodes(out), ", "), str(fits[0], "code"))
	return fits[0], nil
}
