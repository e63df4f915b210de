package fhirpath

import (
	"strings"
	"sync"

	"github.com/nhsconform/conform/profiles/model"
)

// FromModel adapts the FHIR type model of package model to the engine's Model.
func FromModel(m *model.Model) Model {
	return &modelAdapter{m: m}
}

type modelAdapter struct {
	m        *model.Model
	children sync.Map
	bases    sync.Map
}

type childResult struct {
	info ElementInfo
	ok   bool
}

func (a *modelAdapter) Child(path, name string) (ElementInfo, bool) {
	key := path + "\x00" + name
	if v, ok := a.children.Load(key); ok {
		r := v.(childResult)
		return r.info, r.ok
	}
	info, ok := a.lookup(path, name)
	a.children.Store(key, childResult{info, ok})
	return info, ok
}

func (a *modelAdapter) lookup(path, name string) (ElementInfo, bool) {
	typeName := path
	if i := strings.IndexByte(path, '.'); i >= 0 {
		typeName = path[:i]
	}
	t, ok := a.m.Type(typeName)
	if !ok {
		return ElementInfo{}, false
	}
	el, ok := t.Element(path)
	if !ok {
		return ElementInfo{}, false
	}
	code := typeName
	if path != typeName {
		el = el.Target()
		code = el.TypeCode()
	}
	for _, ch := range a.m.Children(el, code) {
		if strings.TrimSuffix(ch.Name, "[x]") != name {
			continue
		}
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
		return info, true
	}
	return ElementInfo{}, false
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
