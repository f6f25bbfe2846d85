package intel

import (
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/davyproject/davy/internal/content"
)

func (in *Intel) addContent(f []string) error {
	name, category, strength, hx, source := f[0], f[1], f[2], f[3], f[4]
	var weak bool
	switch strength {
	case "strong":
	case "weak":
		weak = true
	case "off":
		// Lets a user file switch off an indicator that misfires for them.
		in.content = slices.DeleteFunc(in.content, func(c content.Indicator) bool { return c.Name == name })
		return nil
	default:
		return fmt.Errorf("indicator %q: strength %q, want strong, weak or off", name, strength)
	}
	pat, err := hex.DecodeString(hx)
	if err != nil {
		return fmt.Errorf("indicator %q: pattern is not hex: %w", name, err)
	}
	ind := content.Indicator{Name: name, Category: category, Pattern: pat, Source: source, Weak: weak}
	if err := ind.Validate(); err != nil {
		return err
	}
	for i := range in.content {
		if in.content[i].Name == name {
			in.content[i] = ind
			return nil
		}
	}
	in.content = append(in.content, ind)
	return nil
}
