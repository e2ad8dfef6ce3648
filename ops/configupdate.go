package ops

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// configKeyPattern keeps config_update from writing anything but a plain
// "key = value" line into Barman's configuration.
var configKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

func validateConfigSwitch(cfg *BarmanConfig, req *Request) error {
	_, hasModel := req.Payload.Get("model_name")
	rawReset, hasReset := req.Payload.Get("reset")
	switch {
	case hasModel && hasReset:
		return Errorf(EINVALID, `config_switch takes either "model_name" or "reset": true, not both`)
	case !hasModel && !hasReset:
		return Errorf(EINVALID, `config_switch needs "model_name" (a model to apply) or "reset": true (to remove the active model)`)
	case hasReset:
		if b, ok := rawReset.(bool); !ok || !b {
			return Errorf(EINVALID, `config_switch: "reset" must be true when given (got %s); to apply a model send "model_name"`, describeValue(rawReset))
		}
		return nil
	}
	name, err := requiredPositional(req.Payload, ConfigSwitch, "model_name")
	if err != nil {
		return err
	}
	model, err := cfg.Model(name)
	if err != nil {
		return err
	}
	server, err := cfg.Server(req.Server)
	if err != nil {
		return err
	}
	if model.Cluster != server.Cluster {
		return Errorf(EINVALID, "model %q belongs to cluster %q, but server %q is in cluster %q", name, model.Cluster, req.Server, server.Cluster)
	}
	return nil
}

func (p Policy) validateConfigUpdate(req *Request) error {
	raw, ok := req.Payload.Get("changes")
	if !ok {
		return Errorf(EINVALID, `config_update needs "changes": an array of objects, each with "scope" and "server_name" or "model_name"`)
	}
	changes, ok := raw.([]any)
	if !ok {
		return Errorf(EINVALID, `config_update: "changes" must be an array, got %s`, pyjson.TypeName(raw))
	}
	// An empty array is accepted, as the reference accepts it: Barman is
	// run, changes nothing and exits 0.
	const maxChanges = 1000
	if len(changes) > maxChanges {
		return Errorf(EINVALID, `config_update: "changes" has %d entries; at most %d are accepted`, len(changes), maxChanges)
	}
	for i, c := range changes {
		change, ok := c.(*pyjson.Object)
		if !ok {
			return Errorf(EINVALID, "config_update: changes[%d] must be an object, got %s", i, pyjson.TypeName(c))
		}
		if err := p.validateChange(i, change); err != nil {
			return err
		}
	}
	// The changes reach Barman as one argument.
	if arg, err := pyjson.EncodePython(changes); err == nil && len(arg) > maxArgBytes {
		return Errorf(EINVALID, `config_update: "changes" is %d bytes long as Barman's argument; one argument of Barman's command line can be at most %d`, len(arg), maxArgBytes)
	}
	return nil
}

func (p Policy) validateChange(i int, change *pyjson.Object) error {
	where := fmt.Sprintf("config_update: changes[%d]", i)
	rawScope, ok := change.Get("scope")
	if !ok {
		return Errorf(EINVALID, `%s needs "scope": "server" or "model"`, where)
	}
	scope, _ := rawScope.(string)
	var nameKey string
	switch scope {
	case "server":
		nameKey = "server_name"
	case "model":
		nameKey = "model_name"
	default:
		return Errorf(EINVALID, `%s: "scope" must be "server" or "model", got %s`, where, describeValue(rawScope))
	}
	rawName, ok := change.Get(nameKey)
	if !ok {
		return Errorf(EINVALID, `%s has scope %q and so needs %q`, where, scope, nameKey)
	}
	name, ok := rawName.(string)
	if !ok {
		return Errorf(EINVALID, "%s: %q must be a string, got %s", where, nameKey, pyjson.TypeName(rawName))
	}
	if !ValidName(name) {
		return Errorf(EINVALID, "%s: %q is not a valid %s name: use letters, digits, '.', '_' and '-'", where, name, scope)
	}
	if reservedSection(name) {
		return Errorf(EINVALID, "%s: %q is not a valid %s name: [DEFAULT] would change every server and [barman] Barman's global settings (refused in any case); name one server or model", where, name, scope)
	}
	settings := 0
	values := map[string]string{}
	for _, k := range change.Keys() {
		if k == "scope" || k == nameKey {
			continue
		}
		if !configKeyPattern.MatchString(k) {
			return Errorf(EINVALID, "%s: %q is not a Barman option name (lower-case letters, digits and '_')", where, k)
		}
		if err := p.checkConfigKey(where, k); err != nil {
			return err
		}
		v, _ := change.Get(k)
		switch v := v.(type) {
		case string:
			if strings.IndexFunc(v, isControl) >= 0 {
				return Errorf(EINVALID, "%s: the value of %q contains a control character (a line break would change other settings)", where, k)
			}
			values[k] = v
		case bool, json.Number:
		default:
			return Errorf(EINVALID, "%s: the value of %q must be a string, number or boolean, got %s", where, k, pyjson.TypeName(v))
		}
		settings++
	}
	if settings == 0 {
		return Errorf(EINVALID, "%s changes no option: add at least one \"option\": \"value\"", where)
	}
	for _, k := range change.Keys() {
		if err := checkInterpolation(where, k, values); err != nil {
			return err
		}
	}
	return nil
}
