package validate

// Hand-written recognisers for the R4 primitive formats, equivalent to the
// regular expressions of the specification but without their cost on the
// hot path.

func digits(s string, i, n int) bool {
	if i+n > len(s) {
		return false
	}
	for k := i; k < i+n; k++ {
		if s[k] < '0' || s[k] > '9' {
			return false
		}
	}
	return true
}

func num2(s string, i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }

// lexDate matches YYYY, YYYY-MM or YYYY-MM-DD and returns the length read.
func lexDate(s string) (int, bool) {
	if !digits(s, 0, 4) || s[:4] == "0000" {
		return 0, false
	}
	if len(s) == 4 || s[4] != '-' {
		return 4, true
	}
	if !digits(s, 5, 2) {
		return 0, false
	}
	if m := num2(s, 5); m < 1 || m > 12 {
		return 0, false
	}
	if len(s) == 7 || s[7] != '-' {
		return 7, true
	}
	if !digits(s, 8, 2) {
		return 0, false
	}
	if d := num2(s, 8); d < 1 || d > 31 {
		return 0, false
	}
	return 10, true
}

// lexTime matches hh:mm:ss(.fff) and returns the length read.
func lexTime(s string) (int, bool) {
	if len(s) < 8 || !digits(s, 0, 2) || s[2] != ':' || !digits(s, 3, 2) || s[5] != ':' || !digits(s, 6, 2) {
		return 0, false
	}
	if num2(s, 0) > 23 || num2(s, 3) > 59 || num2(s, 6) > 60 {
		return 0, false
	}
	i := 8
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	return i, true
}

func lexZone(s string) bool {
	if s == "Z" {
		return true
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || !digits(s, 1, 2) || s[3] != ':' || !digits(s, 4, 2) {
		return false
	}
	h, m := num2(s, 1), num2(s, 4)
	return m <= 59 && (h < 14 || h == 14 && m == 0)
}

func isDate(s string) bool {
	n, ok := lexDate(s)
	return ok && n == len(s)
}

func isDateTime(s string) bool {
	n, ok := lexDate(s)
	if !ok {
		return false
	}
	if n == len(s) {
		return true
	}
	if n != 10 || s[10] != 'T' {
		return false
	}
	t, ok := lexTime(s[11:])
	return ok && lexZone(s[11+t:])
}

func isInstant(s string) bool {
	n, ok := lexDate(s)
	return ok && n == 10 && len(s) > 10 && s[10] == 'T' && isDateTime(s)
}

func isTime(s string) bool {
	n, ok := lexTime(s)
	return ok && n == len(s)
}

func isDecimal(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start || (s[start] == '0' && i-start > 1) {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		f := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == f {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		e := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == e {
			return false
		}
	}
	return i == len(s)
}

func isInteger(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i == len(s) {
		return false
	}
	if s[i] == '0' {
		return i+1 == len(s)
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// base64Class classifies bytes for isBase64: 1 alphabet, 2 whitespace.
var base64Class = func() (t [256]uint8) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = 1
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = 1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	t['+'], t['/'], t['='] = 1, 1, 1
	t[' '], t['\t'], t['\r'], t['\n'], t['\f'], t['\v'] = 2, 2, 2, 2, 2, 2
	return t
}()

func isBase64(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		switch base64Class[s[i]] {
		case 1:
			n++
		case 0:
			return false
		}
	}
	return n > 0 && n%4 == 0
}
