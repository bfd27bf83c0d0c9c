package ui

import (
	"embed"
	"fmt"
	"os"

	"fyne.io/fyne/v2/lang"
)

//go:embed translations/*.json
var translations embed.FS

// Languages are those the console speaks; English is the fallback.
var Languages = []string{"fr", "en"}

// LoadTranslations loads the console's texts. Fyne picks the language
// from LANGUAGE, LC_ALL, LC_MESSAGES and LANG when they are loaded, so
// call UseLanguage first to choose one.
func LoadTranslations() error {
	if err := lang.AddTranslationsFS(translations, "translations"); err != nil {
		return fmt.Errorf("translations: %w", err)
	}
	return nil
}

// UseLanguage makes code ("fr" or "en") the language of the texts loaded
// next, whatever the desktop's locale.
func UseLanguage(code string) error {
	known := false
	for _, l := range Languages {
		known = known || l == code
	}
	if !known {
		return fmt.Errorf("language %q: the console speaks %v", code, Languages)
	}
	if err := os.Setenv("LANGUAGE", code); err != nil {
		return err
	}
	// LANGUAGE is ignored when the locale is C or POSIX (gettext's rule,
	// which Fyne follows); C.UTF-8 is the same locale without that rule.
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(name)
		if v == "" {
			continue
		}
		if v == "C" || v == "POSIX" {
			return os.Setenv(name, "C.UTF-8")
		}
		break
	}
	return nil
}

// language is the language of the texts in use: "fr" or "en".
func language() string {
	// Each translation file names its own language.
	return lang.L("lang.code")
}
