package service

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/eventschema"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/wire"
)

var eventTypePattern = regexp.MustCompile(`^[a-zA-Z0-9_\-]+(\.[a-zA-Z0-9_\-]+)*$`)

// EventTypeInput is the body of an event type create or PATCH.
type EventTypeInput struct {
	Name        *string         `json:"name"`
	Description *string         `json:"description"`
	Status      *string         `json:"status"`
	Schema      json.RawMessage `json:"schema"`
}

func checkEventTypeName(field, name string) error {
	if len(name) == 0 || len(name) > 255 || !eventTypePattern.MatchString(name) {
		return hookd.Errorf(hookd.EINVALID, "%s must be dot-separated words of letters, digits, '_' or '-' (at most 255 characters)", field)
	}
	return nil
}

// CreateEventType adds a type to the catalog.
func (s *Service) CreateEventType(ctx context.Context, p *Principal, in *EventTypeInput) (*hookd.EventType, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, hookd.Errorf(hookd.EINVALID, "name is required")
	}
	if err := checkEventTypeName("name", *in.Name); err != nil {
		return nil, err
	}
	now := s.now()
	et := &hookd.EventType{ID: s.cfg.NewID("etp"), Name: *in.Name, Status: hookd.EventTypeActive, CreatedAt: now, UpdatedAt: now}
	if err := applyEventType(et, in); err != nil {
		return nil, err
	}
	if err := s.store.CreateEventType(ctx, et); err != nil {
		return nil, err
	}
	s.eventTypes.clear() // publishing may have cached its absence
	return et, nil
}

func applyEventType(et *hookd.EventType, in *EventTypeInput) error {
	if in.Description != nil {
		if err := checkDescription(*in.Description); err != nil {
			return err
		}
		et.Description = *in.Description
	}
	if in.Status != nil {
		switch *in.Status {
		case hookd.EventTypeActive, hookd.EventTypeReserved, hookd.EventTypeDeprecated:
			et.Status = *in.Status
		default:
			return hookd.Errorf(hookd.EINVALID, "status must be active, reserved or deprecated")
		}
	}
	if in.Schema != nil {
		schema := bytes.TrimSpace(in.Schema)
		switch {
		case string(schema) == "null":
			et.Schema = nil
		case len(schema) > 0 && schema[0] == '{':
			// Canonical, as event data: it refuses what a store or a
			// JavaScript reader could not take back (numbers beyond
			// float64, duplicate keys, deep nesting).
			c, err := wire.CanonicalObject(schema)
			if err != nil {
				// Its messages speak of "data ...".
				return hookd.Errorf(hookd.EINVALID, "schema %s", strings.TrimPrefix(hookd.ErrorMessage(err), "data "))
			}
			if _, err := eventschema.Compile(c); err != nil {
				return hookd.Errorf(hookd.EINVALID, "schema %s", err)
			}
			et.Schema = c
		default:
			return hookd.Errorf(hookd.EINVALID, "schema must be a JSON object")
		}
	}
	return nil
}

// GetEventType returns one catalog entry.
func (s *Service) GetEventType(ctx context.Context, _ *Principal, name string) (*hookd.EventType, error) {
	return s.store.GetEventType(ctx, name)
}

// ListEventTypes lists the catalog, newest first.
func (s *Service) ListEventTypes(ctx context.Context, _ *Principal, page store.Page) ([]*hookd.EventType, string, error) {
	return s.store.ListEventTypes(ctx, page)
}

// UpdateEventType applies a PATCH; the name cannot change.
func (s *Service) UpdateEventType(ctx context.Context, p *Principal, name string, in *EventTypeInput) (*hookd.EventType, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	et, err := s.store.GetEventType(ctx, name)
	if err != nil {
		return nil, err
	}
	if in.Name != nil && *in.Name != et.Name {
		return nil, hookd.Errorf(hookd.EINVALID, "name cannot be changed")
	}
	if err := applyEventType(et, in); err != nil {
		return nil, err
	}
	et.UpdatedAt = s.now()
	if err := s.store.UpdateEventType(ctx, et); err != nil {
		return nil, err
	}
	s.eventTypes.clear()
	return et, nil
}
