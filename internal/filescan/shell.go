package filescan

// Limits on how much of one line is split into words.
const (
	maxWords    = 512
	maxCommands = 64
)

// commands splits a shell line into simple commands of words. Blanks
// separate words; ; | & ( ) ` < > { } and newlines separate commands.
// Quotes are dropped rather than honoured, so the words inside
// sh -c "..." and echo '...' are seen as words too: what matters here is
// which words a line holds, not how a shell would group them. A backslash
// keeps the next character.
func commands(line string) [][]string {
	var (
		out   [][]string
		cmd   []string
		word  []byte
		words int
	)
	endWord := func() {
		if len(word) > 0 && words < maxWords {
			cmd = append(cmd, string(word))
			words++
		}
		word = word[:0]
	}
	endCmd := func() {
		endWord()
		if len(cmd) > 0 && len(out) < maxCommands {
			out = append(out, cmd)
		}
		cmd = nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch c {
		case ' ', '\t', '\r':
			endWord()
		case ';', '|', '&', '(', ')', '`', '<', '>', '{', '}', '\n':
			endCmd()
		case '"', '\'':
		case '\\':
			if i+1 < len(line) {
				i++
				word = append(word, line[i])
			}
		default:
			word = append(word, c)
		}
	}
	endCmd()
	return out
}
