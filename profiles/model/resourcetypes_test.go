package model_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nhsconform/conform/profiles/model"
	"github.com/nhsconform/conform/profiles/model/modeltest"
)

func TestR4ResourceTypesMatchTheCoreDefinitions(t *testing.T) {
	m := modeltest.Core(t)
	types := model.R4ResourceTypes()
	assert.Len(t, types, 146)
	for _, name := range types {
		typ, ok := m.Type(name)
		if assert.True(t, ok, name) {
			assert.Equal(t, model.KindResource, typ.Kind, name)
			assert.False(t, typ.Abstract, name)
		}
	}
	assert.False(t, model.IsR4ResourceType("DomainResource"), "abstract types are not listed")
	assert.False(t, model.IsR4ResourceType("HumanName"))
}
