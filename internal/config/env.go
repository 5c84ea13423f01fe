package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
)

// defaultEnvFiles are the .env files netlify-cli reads, highest precedence
// first, the order [dev] envFiles uses too (cli:src/utils/dot-env.ts).
var defaultEnvFiles = []string{".env.development.local", ".env.local", ".env.development", ".env"}

// loadEnv fills cfg.Env, cfg.EnvSources and cfg.EnvFiles. Later sources
// win: [build.environment], [context.X.environment], the .env files from
// the lowest to the highest precedence, and then the shell for every key
// that is set there.
//
// The .env files are read from BaseDir, netlify-cli's site.root (the build
// directory @netlify/config resolves from [build] base).
func (l *loader) loadEnv(cfg *Config, fc *fileConfig) error {
	cfg.Env = map[string]string{}
	cfg.EnvSources = map[string]string{}
	set := func(vars map[string]string, source string) {
		for k, v := range vars {
			cfg.Env[k] = v
			cfg.EnvSources[k] = source
		}
	}
	set(fc.buildEnv, "netlify.toml [build.environment]")
	set(fc.contextEnv, "netlify.toml [context."+l.context+".environment]")

	files := defaultEnvFiles
	if fc.envFilesSet {
		files = fc.envFiles
	}
	for _, name := range slices.Backward(files) {
		p := resolve(cfg.BaseDir, name)
		cfg.WatchPaths = append(cfg.WatchPaths, p)
		data, err := readEnvFile(p)
		if err != nil {
			return err
		}
		if data == nil {
			continue
		}
		vars, err := parseDotEnv(l.display(p), data)
		if err != nil {
			return err
		}
		cfg.EnvFiles = append(cfg.EnvFiles, p)
		for _, v := range vars {
			cfg.Env[v.Key] = v.Value
			cfg.EnvSources[v.Key] = name
		}
	}

	for k := range cfg.Env {
		if v, ok := l.lookupEnv(k); ok {
			cfg.Env[k] = v
			cfg.EnvSources[k] = "shell"
		}
	}
	return nil
}

// readEnvFile returns the contents of the .env file at p, or nil when there
// is no such file (netlify-cli skips missing files and directories alike).
func readEnvFile(p string) ([]byte, error) {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.Mode().IsRegular() {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read env file: %w", err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read env file: %w", err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}
