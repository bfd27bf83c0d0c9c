package yamlconf

import (
	"fmt"
	"log/slog"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LogLevel is a log level written in YAML as debug, info, warn or error
// (in any case).
type LogLevel slog.Level

// ParseLogLevel parses a log level as written in a config file.
func ParseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("invalid log level %s (use debug, info, warn or error)", quote(s))
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *LogLevel) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("should be debug, info, warn or error, not %s", kindName(n.Kind))
	}
	v, err := ParseLogLevel(n.Value)
	if err != nil {
		return err
	}
	*l = LogLevel(v)
	return nil
}
