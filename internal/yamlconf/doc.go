// Package yamlconf decodes Bab's YAML configuration files strictly: unknown
// and duplicate keys, wrong shapes and bad values are reported with the file
// and line they are on, in plain words, so that an administrator editing a
// config file by hand can find and fix the problem. It also provides the
// value types shared by the config files (durations, sizes, log levels) and
// the check of the file's format version.
package yamlconf
