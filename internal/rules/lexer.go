package rules

import (
	"fmt"
	"strings"
)

type tokKind uint8

const (
	tEOF    tokKind = iota
	tLParen         // (
	tRParen         // )
	tComma          // ,
	tWord           // a field, macro, keyword or word operator: proc.name, spawned_process, and, contains
	tOp             // a symbol operator: = == != < <= > >=
	tString         // a quoted string, unquoted in text
	tBare           // an unquoted value: /tmp/, 10.0.0.0/8, DAVY-I001
)

type token struct {
	kind tokKind
	text string // the word, the operator, or the value (unquoted and unescaped)
	off  int    // byte offset of the token in the condition
}

// syntaxError is a problem at an offset of the condition.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

// lexer splits a condition into tokens. The language needs two modes, as in
// Falco: in an expression, words are fields, macros and keywords; after an
// operator, a bare value runs until a blank, a parenthesis, a comma, a quote
// or '=' (so "<", "/tmp/" and "10.0.0.0/8" are values).
type lexer struct {
	src string
	pos int
}

func (l *lexer) skipBlanks() {
	for l.pos < len(l.src) {
		switch l.src[l.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			l.pos++
		default:
			return
		}
	}
}

// peekExpr returns the next token in expression mode without consuming it.
func (l *lexer) peekExpr() (token, error) {
	save := l.pos
	t, err := l.nextExpr()
	l.pos = save
	return t, err
}

// nextExpr reads a token in expression mode.
func (l *lexer) nextExpr() (token, error) {
	l.skipBlanks()
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, off: start}, nil
	}
	c := l.src[l.pos]
	switch {
	case c == '(':
		l.pos++
		return token{kind: tLParen, text: "(", off: start}, nil
	case c == ')':
		l.pos++
		return token{kind: tRParen, text: ")", off: start}, nil
	case c == ',':
		l.pos++
		return token{kind: tComma, text: ",", off: start}, nil
	case c == '=' || c == '<' || c == '>' || c == '!':
		return l.symbolOp()
	case isWordStart(c):
		return l.word()
	case c == '"' || c == '\'':
		return token{}, &syntaxError{start, "expected a field, a macro or '(', found a quoted string"}
	}
	return token{}, &syntaxError{start, fmt.Sprintf("unexpected character %q", rune(c))}
}

func (l *lexer) symbolOp() (token, error) {
	start := l.pos
	rest := l.src[l.pos:]
	for _, op := range []string{"==", "!=", "<=", ">=", "=", "<", ">"} {
		if strings.HasPrefix(rest, op) {
			l.pos += len(op)
			return token{kind: tOp, text: op, off: start}, nil
		}
	}
	return token{}, &syntaxError{start, "unexpected '!' (use != or not)"}
}

func isWordStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isWordChar(c byte) bool {
	return isWordStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'
}

// word reads a field, macro or keyword; a field may carry an argument in
// brackets: proc.aname[2], k8s.pod.label[app.kubernetes.io/name].
func (l *lexer) word() (token, error) {
	start := l.pos
	for l.pos < len(l.src) && isWordChar(l.src[l.pos]) {
		l.pos++
	}
	if l.pos < len(l.src) && l.src[l.pos] == '[' {
		end := strings.IndexByte(l.src[l.pos:], ']')
		if end < 0 {
			return token{}, &syntaxError{l.pos, "missing ']' after field argument"}
		}
		l.pos += end + 1
	}
	return token{kind: tWord, text: l.src[start:l.pos], off: start}, nil
}

// nextValue reads a token in value mode: '(' ')' ',' a quoted string or a
// bare value.
func (l *lexer) nextValue() (token, error) {
	l.skipBlanks()
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, off: start}, nil
	}
	switch c := l.src[l.pos]; c {
	case '(':
		l.pos++
		return token{kind: tLParen, text: "(", off: start}, nil
	case ')':
		l.pos++
		return token{kind: tRParen, text: ")", off: start}, nil
	case ',':
		l.pos++
		return token{kind: tComma, text: ",", off: start}, nil
	case '"', '\'':
		return l.quoted(c)
	case '=':
		return token{}, &syntaxError{start, "unexpected '=' where a value was expected"}
	}
	for l.pos < len(l.src) && !endsBare(l.src[l.pos]) {
		l.pos++
	}
	return token{kind: tBare, text: l.src[start:l.pos], off: start}, nil
}

func endsBare(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v', '(', ')', ',', '"', '\'', '=':
		return true
	}
	return false
}

// quoted reads a string in single or double quotes. \\ and an escaped quote
// are unescaped, as are \n \t \r; any other backslash is kept, so that
// regular expressions such as "\d+" read as written.
func (l *lexer) quoted(q byte) (token, error) {
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == q:
			l.pos++
			return token{kind: tString, text: b.String(), off: start}, nil
		case c == '\\' && l.pos+1 < len(l.src):
			n := l.src[l.pos+1]
			switch n {
			case '\\', '"', '\'':
				b.WriteByte(n)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte('\\')
				b.WriteByte(n)
			}
			l.pos += 2
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return token{}, &syntaxError{start, "unterminated quoted string"}
}
