package npy

import (
	"fmt"
	"strconv"
	"strings"
)

// The .npy header is the repr() of a Python dict, which NumPy reads back with
// ast.literal_eval. This file parses the small part of Python's literal syntax that such
// a dict can use (strings in either quote style, ints, True/False/None, tuples, lists and
// dicts, with any spacing and trailing commas) and nothing else. It never evaluates code.

type pyKind int

const (
	pyStr pyKind = iota
	pyInt
	pyBool
	pyNone
	pyTuple
	pyList
	pyDict
)

// pyValue is one parsed Python literal.
type pyValue struct {
	kind   pyKind
	str    string    // pyStr
	num    int64     // pyInt, when it fits
	tooBig bool      // pyInt that does not fit in an int64
	truth  bool      // pyBool
	items  []pyValue // pyTuple, pyList; the values of a pyDict
	keys   []string  // pyDict
	text   string    // the literal's source text, for error messages
}

// maxNesting bounds recursion: a real header nests two deep ({'shape': (...)}).
const maxNesting = 16

type pyParser struct {
	src string
	pos int
}

// parseHeaderDict parses a header: one dict literal, then only whitespace.
func parseHeaderDict(src string) (pyValue, error) {
	p := &pyParser{src: src}
	v, err := p.value(0)
	if err != nil {
		return pyValue{}, err
	}
	p.skipSpace()
	if p.pos < len(p.src) {
		return pyValue{}, p.errorf("unexpected %q after the header dict", p.src[p.pos])
	}
	if v.kind != pyDict {
		return pyValue{}, fmt.Errorf("header is %s, not a dict", v.text)
	}
	return v, nil
}

func (p *pyParser) errorf(format string, args ...any) error {
	return fmt.Errorf("header: %s at byte %d of %s", fmt.Sprintf(format, args...), p.pos, quoteShort(p.src))
}

// quoteShort quotes s for an error message, cut short if long.
func quoteShort(s string) string {
	const max = 120
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

func (p *pyParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.pos++
		default:
			return
		}
	}
}

func (p *pyParser) value(depth int) (pyValue, error) {
	if depth > maxNesting {
		return pyValue{}, p.errorf("nested deeper than %d", maxNesting)
	}
	p.skipSpace()
	if p.pos >= len(p.src) {
		return pyValue{}, p.errorf("unexpected end")
	}
	start := p.pos
	var v pyValue
	var err error
	switch c := p.src[p.pos]; {
	case c == '\'' || c == '"':
		v, err = p.str()
	case c == '-' || c == '+' || ('0' <= c && c <= '9'):
		v, err = p.integer()
	case c == '(':
		v, err = p.sequence(depth, '(', ')', pyTuple)
	case c == '[':
		v, err = p.sequence(depth, '[', ']', pyList)
	case c == '{':
		v, err = p.dict(depth)
	case isNameByte(c):
		v, err = p.name()
	default:
		return pyValue{}, p.errorf("unexpected %q", c)
	}
	if err != nil {
		return pyValue{}, err
	}
	if v.text == "" {
		v.text = p.src[start:p.pos]
	}
	return v, nil
}

func isNameByte(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func (p *pyParser) name() (pyValue, error) {
	start := p.pos
	for p.pos < len(p.src) && isNameByte(p.src[p.pos]) {
		p.pos++
	}
	switch word := p.src[start:p.pos]; word {
	case "True":
		return pyValue{kind: pyBool, truth: true}, nil
	case "False":
		return pyValue{kind: pyBool}, nil
	case "None":
		return pyValue{kind: pyNone}, nil
	default:
		p.pos = start
		return pyValue{}, p.errorf("unexpected name %q (only True, False and None are literals)", word)
	}
}

// str parses a quoted string. Headers hold dtype strings such as '<f4'; escapes other than
// \\, \' and \" do not occur in them and are refused rather than half-understood.
func (p *pyParser) str() (pyValue, error) {
	quote := p.src[p.pos]
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == quote:
			p.pos++
			return pyValue{kind: pyStr, str: b.String()}, nil
		case c == '\n':
			return pyValue{}, p.errorf("string not closed before the end of the line")
		case c == '\\':
			if p.pos+1 >= len(p.src) {
				return pyValue{}, p.errorf("string not closed")
			}
			switch e := p.src[p.pos+1]; e {
			case '\\', '\'', '"':
				b.WriteByte(e)
				p.pos += 2
			default:
				return pyValue{}, p.errorf("escape \\%c in a string is not supported", e)
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return pyValue{}, p.errorf("string not closed")
}

// integer parses a decimal int, with the L suffix that Python 2 NumPy wrote in shapes.
func (p *pyParser) integer() (pyValue, error) {
	start := p.pos
	if c := p.src[p.pos]; c == '-' || c == '+' {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.src) && '0' <= p.src[p.pos] && p.src[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == digits {
		return pyValue{}, p.errorf("sign without digits")
	}
	number := p.src[start:p.pos]
	if p.pos < len(p.src) && (p.src[p.pos] == 'L' || p.src[p.pos] == 'l') {
		p.pos++
	}
	if p.pos < len(p.src) && (isNameByte(p.src[p.pos]) || p.src[p.pos] == '.') {
		end := p.pos
		for end < len(p.src) && (isNameByte(p.src[end]) || strings.IndexByte(".+-", p.src[end]) >= 0) {
			end++
		}
		p.pos = start
		return pyValue{}, p.errorf("%q is not an integer", p.src[start:end])
	}
	v := pyValue{kind: pyInt}
	n, err := strconv.ParseInt(number, 10, 64)
	if err != nil { // only a range error is possible here
		v.tooBig = true
	}
	v.num = n
	return v, nil
}

// sequence parses a tuple or a list. As in Python, "(x)" is x itself, not a tuple.
func (p *pyParser) sequence(depth int, open, close byte, kind pyKind) (pyValue, error) {
	p.pos++ // open
	var items []pyValue
	sawComma := false
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return pyValue{}, p.errorf("%c not closed", open)
		}
		if p.src[p.pos] == close {
			p.pos++
			break
		}
		if len(items) > 0 && !sawComma {
			return pyValue{}, p.errorf("expected ',' or %q", close)
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return pyValue{}, err
		}
		items = append(items, v)
		p.skipSpace()
		sawComma = p.pos < len(p.src) && p.src[p.pos] == ','
		if sawComma {
			p.pos++
		}
	}
	if kind == pyTuple && len(items) == 1 && !sawComma {
		return items[0], nil // parenthesised expression
	}
	return pyValue{kind: kind, items: items}, nil
}

func (p *pyParser) dict(depth int) (pyValue, error) {
	p.pos++ // {
	v := pyValue{kind: pyDict}
	sawComma := true
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return pyValue{}, p.errorf("{ not closed")
		}
		if p.src[p.pos] == '}' {
			p.pos++
			return v, nil
		}
		if !sawComma {
			return pyValue{}, p.errorf("expected ',' or '}'")
		}
		keyAt := p.pos
		key, err := p.value(depth + 1)
		if err != nil {
			return pyValue{}, err
		}
		if key.kind != pyStr {
			p.pos = keyAt
			return pyValue{}, p.errorf("dict key %s is not a string", key.text)
		}
		for _, k := range v.keys {
			if k == key.str {
				p.pos = keyAt
				return pyValue{}, p.errorf("key %q appears twice", key.str)
			}
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return pyValue{}, p.errorf("expected ':' after key %q", key.str)
		}
		p.pos++
		val, err := p.value(depth + 1)
		if err != nil {
			return pyValue{}, err
		}
		v.keys = append(v.keys, key.str)
		v.items = append(v.items, val)
		p.skipSpace()
		sawComma = p.pos < len(p.src) && p.src[p.pos] == ','
		if sawComma {
			p.pos++
		}
	}
}

// get returns the value of key in a pyDict.
func (v pyValue) get(key string) (pyValue, bool) {
	for i, k := range v.keys {
		if k == key {
			return v.items[i], true
		}
	}
	return pyValue{}, false
}
