package rules

import (
	"fmt"
	"strings"
)

// The condition's syntax tree. Checks are compiled while parsing, so the
// tree's leaves are ready closures; macros stay references until the
// ruleset is compiled.
type node interface{ isNode() }

type andNode struct{ kids []node }
type orNode struct{ kids []node }
type notNode struct{ kid node }

type checkNode struct {
	fn    evalFn
	field string // the field as written, for the event-type index
	op    op
	vals  []string
}

type macroNode struct {
	name string
	off  int
}

func (*andNode) isNode()   {}
func (*orNode) isNode()    {}
func (*notNode) isNode()   {}
func (*checkNode) isNode() {}
func (*macroNode) isNode() {}

// parseEnv is what parsing needs from the ruleset: the lists, expanded,
// and a budget of values shared by every condition of a load.
type parseEnv struct {
	lists  map[string][]string
	bad    map[string]bool // lists with errors
	values int             // values left in the budget
}

// parser is a recursive-descent parser over the lexer:
//
//	or      = and { "or" and }
//	and     = not { "and" not }
//	not     = "not" not | primary
//	primary = "(" or ")" | field op value | field op list | field "exists" | macro
//	list    = "(" [ value { "," value } ] ")"
//
// "not" binds tighter than "and", which binds tighter than "or", as in Falco.
type parser struct {
	lx    lexer
	env   *parseEnv
	depth int
	errs  []*checkError // problems that do not stop parsing: unknown fields, bad values
}

// parseCondition parses a condition. A syntax error stops parsing and is
// the only error returned; otherwise every semantic error is returned, and
// the tree is only usable when there are none.
func parseCondition(src string, env *parseEnv) (node, []*checkError) {
	if len(src) > maxConditionLen {
		return nil, []*checkError{{0, fmt.Sprintf("condition is %d bytes, more than the %d allowed", len(src), maxConditionLen)}}
	}
	if strings.TrimSpace(src) == "" {
		return nil, []*checkError{{0, "empty condition"}}
	}
	p := &parser{lx: lexer{src: src}, env: env}
	n, err := p.parseOr()
	if err == nil {
		var t token
		t, err = p.lx.nextExpr()
		if err == nil && t.kind != tEOF {
			err = &syntaxError{t.off, fmt.Sprintf("unexpected %s", describe(t))}
		}
	}
	if err != nil {
		se, ok := err.(*syntaxError)
		if !ok {
			se = &syntaxError{0, err.Error()}
		}
		return nil, []*checkError{{se.off, se.msg}}
	}
	return n, p.errs
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of condition"
	case tString:
		return fmt.Sprintf("quoted string %q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

func (p *parser) isWord(w string) bool {
	t, err := p.lx.peekExpr()
	return err == nil && t.kind == tWord && t.text == w
}

func (p *parser) parseOr() (node, error) {
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	if !p.isWord("or") {
		return first, nil
	}
	kids := []node{first}
	for p.isWord("or") {
		if _, err := p.lx.nextExpr(); err != nil {
			return nil, err
		}
		n, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	return &orNode{kids}, nil
}

func (p *parser) parseAnd() (node, error) {
	first, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	if !p.isWord("and") {
		return first, nil
	}
	kids := []node{first}
	for p.isWord("and") {
		if _, err := p.lx.nextExpr(); err != nil {
			return nil, err
		}
		n, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	return &andNode{kids}, nil
}

func (p *parser) enter(off int) error {
	p.depth++
	if p.depth > maxDepth {
		return &syntaxError{off, fmt.Sprintf("condition nested deeper than %d levels", maxDepth)}
	}
	return nil
}

func (p *parser) parseNot() (node, error) {
	if p.isWord("not") {
		t, _ := p.lx.nextExpr()
		if err := p.enter(t.off); err != nil {
			return nil, err
		}
		n, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		p.depth--
		return &notNode{n}, nil
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() (node, error) {
	t, err := p.lx.nextExpr()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case tLParen:
		if err := p.enter(t.off); err != nil {
			return nil, err
		}
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		c, err := p.lx.nextExpr()
		if err != nil {
			return nil, err
		}
		if c.kind != tRParen {
			return nil, &syntaxError{c.off, fmt.Sprintf("expected ')', found %s", describe(c))}
		}
		p.depth--
		return n, nil
	case tWord:
		switch t.text {
		case "and", "or":
			return nil, &syntaxError{t.off, fmt.Sprintf("unexpected %q", t.text)}
		}
		next, err := p.lx.peekExpr()
		if err == nil && isOperator(next) {
			return p.parseCheck(t)
		}
		if strings.ContainsAny(t.text, ".[") {
			if _, ferr := lookupField(t.text); ferr != nil {
				p.errs = append(p.errs, &checkError{t.off, ferr.Error()})
				return &checkNode{}, nil
			}
			return nil, &syntaxError{next.off, fmt.Sprintf("expected an operator after field %q, found %s", t.text, describe(next))}
		}
		return &macroNode{name: t.text, off: t.off}, nil
	case tEOF:
		return nil, &syntaxError{t.off, "unexpected end of condition"}
	}
	return nil, &syntaxError{t.off, fmt.Sprintf("unexpected %s", describe(t))}
}

func isOperator(t token) bool {
	if t.kind == tOp {
		return true
	}
	if t.kind != tWord {
		return false
	}
	_, ok := opByName[t.text]
	return ok || unsupportedOps[t.text]
}

func (p *parser) parseCheck(ft token) (node, error) {
	f, ferr := lookupField(ft.text)
	if ferr != nil {
		p.errs = append(p.errs, &checkError{ft.off, ferr.Error()})
	}
	ot, _ := p.lx.nextExpr()
	if unsupportedOps[ot.text] {
		return nil, &syntaxError{ot.off, fmt.Sprintf("operator %q is not supported", ot.text)}
	}
	o := opByName[ot.text]
	var vals []value
	if o != opExists {
		var err error
		if vals, err = p.parseValues(o, ot); err != nil {
			return nil, err
		}
	}
	if f == nil {
		return &checkNode{}, nil
	}
	fn, cerr := buildCheck(f, o, ot.off, vals)
	if cerr != nil {
		p.errs = append(p.errs, cerr)
		return &checkNode{}, nil
	}
	return &checkNode{fn: fn, field: ft.text, op: o, vals: texts(vals)}, nil
}

// parseValues reads what follows an operator: one value, or a list in
// parentheses for in, intersects and pmatch. Inside a list, a bare name of
// a list is replaced by its items.
func (p *parser) parseValues(o op, ot token) ([]value, error) {
	t, err := p.lx.nextValue()
	if err != nil {
		return nil, err
	}
	if !o.takesList() {
		switch t.kind {
		case tString, tBare:
			return []value{{t.text, t.off}}, nil
		case tLParen:
			return nil, &syntaxError{t.off, fmt.Sprintf("operator %q takes one value, not a list", o.String())}
		}
		return nil, &syntaxError{t.off, fmt.Sprintf("expected a value after %q, found %s", ot.text, describe(t))}
	}
	if t.kind != tLParen {
		return nil, &syntaxError{t.off, fmt.Sprintf("operator %q takes a list in parentheses: %s (a, b)", o.String(), o.String())}
	}
	var vals []value
	t, err = p.lx.nextValue()
	if err != nil {
		return nil, err
	}
	if t.kind == tRParen {
		return vals, nil
	}
	for {
		switch t.kind {
		case tString:
			vals = append(vals, value{t.text, t.off})
		case tBare:
			if items, ok := p.env.lists[t.text]; ok {
				if p.env.bad[t.text] {
					p.errs = append(p.errs, &checkError{t.off, fmt.Sprintf("uses list %q, which has errors", t.text)})
				}
				for _, it := range items {
					vals = append(vals, value{it, t.off})
				}
			} else {
				vals = append(vals, value{t.text, t.off})
			}
		default:
			return nil, &syntaxError{t.off, fmt.Sprintf("expected a value in the list, found %s", describe(t))}
		}
		if len(vals) > maxListItems {
			return nil, &syntaxError{t.off, fmt.Sprintf("list has more than %d values", maxListItems)}
		}
		t, err = p.lx.nextValue()
		if err != nil {
			return nil, err
		}
		if t.kind == tRParen {
			break
		}
		if t.kind != tComma {
			return nil, &syntaxError{t.off, fmt.Sprintf("expected ',' or ')' in the list, found %s", describe(t))}
		}
		if t, err = p.lx.nextValue(); err != nil {
			return nil, err
		}
	}
	p.env.values -= len(vals)
	if p.env.values < 0 {
		return nil, &syntaxError{ot.off, fmt.Sprintf("the rules use more than %d values in all", maxTotalValues)}
	}
	return vals, nil
}
