package fhirpath

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nhsconform/conform/profiles/model"
)

// FromModel adapts the FHIR type model of package model to the engine's Model.
func FromModel(m *model.Model) Model {
	return &modelAdapter{m: m}
}

type modelAdapter struct {
	m      *model.Model
	tables sync.Map
	bases  sync.Map
}

func (a *modelAdapter) Child(path, name string) (ElementInfo, bool) {
	if e := a.rootTable(path).entries[name]; e != nil {
		return e.info, true
	}
	return ElementInfo{}, false
}

func (a *modelAdapter) rootTable(path string) *table {
	if v, ok := a.tables.Load(path); ok {
		return v.(*table)
	}
	t := &table{entries: map[string]*entry{}}
	for name, info := range a.build(path) {
		t.entries[name] = &entry{info: info, ext: "_" + name}
	}
	v, _ := a.tables.LoadOrStore(path, t)
	return v.(*table)
}

func (a *modelAdapter) subTable(e *entry) *table {
	if t := e.sub.Load(); t != nil {
		return t
	}
	def := e.info.Path
	if def == "" && len(e.info.Types) == 1 {
		def = e.info.Types[0]
	}
	t := a.rootTable(def)
	e.sub.Store(t)
	return t
}

func (a *modelAdapter) build(path string) map[string]ElementInfo {
	typeName := path
	if i := strings.IndexByte(path, '.'); i >= 0 {
		typeName = path[:i]
	}
	t, ok := a.m.Type(typeName)
	if !ok {
		return nil
	}
	el, ok := t.Element(path)
	if !ok {
		return nil
	}
	code := typeName
	if path != typeName {
		el = el.Target()
		code = el.TypeCode()
	}
	tbl := map[string]ElementInfo{}
	for _, ch := range a.m.Children(el, code) {
		name := strings.TrimSuffix(ch.Name, "[x]")
		target := ch.Target()
		info := ElementInfo{}
		for _, tr := range target.Types {
			info.Types = append(info.Types, tr.Code)
		}
		if name == "id" && path == typeName && t.Kind == model.KindResource {
			info.Types = []string{"id"}
		}
		if len(target.Children()) > 0 {
			info.Path = target.Path
		}
		tbl[name] = info
	}
	return tbl
}

func (a *modelAdapter) BaseType(name string) string {
	if v, ok := a.bases.Load(name); ok {
		return v.(string)
	}
	base := ""
	if t, ok := a.m.Type(name); ok {
		base = t.Base
	}
	a.bases.Store(name, base)
	return base
}

func (a *modelAdapter) HasType(name string) bool {
	if name == "" || strings.ContainsAny(name, "/:") {
		return false
	}
	_, ok := a.m.Type(name)
	return ok
}

// table lists the children of one definition path, each with the table of its own children.
type table struct {
	entries map[string]*entry
}

type entry struct {
	info ElementInfo
	ext  string
	sub  atomic.Pointer[table]
}

// tableModel is a Model that hands out child tables, letting nodes keep
// their definition instead of looking it up by path on every step.
type tableModel interface {
	rootTable(path string) *table
	subTable(e *entry) *table
}
