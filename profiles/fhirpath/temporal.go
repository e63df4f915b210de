package fhirpath

import (
	"fmt"
	"strings"
	"time"
)

// Precisions of dates and times, coarsest first.
const (
	precYear = iota + 1
	precMonth
	precDay
	precHour
	precMinute
	precSecond
	precMillisecond
)

type dt struct {
	year, month, day         int
	hour, minute, second, ms int
	prec                     int
	hasTZ                    bool
	zulu                     bool
	offset                   int
}

// Date is a System.Date with its precision (year, month or day).
type Date struct{ dt }

// DateTime is a System.DateTime with its precision and optional time-zone offset.
type DateTime struct{ dt }

// Time is a System.Time with its precision.
type Time struct{ dt }

// Type reports System.Date.
func (Date) Type() TypeSpec { return TypeSpec{NamespaceSystem, "Date"} }

// Type reports System.DateTime.
func (DateTime) Type() TypeSpec { return TypeSpec{NamespaceSystem, "DateTime"} }

// Type reports System.Time.
func (Time) Type() TypeSpec { return TypeSpec{NamespaceSystem, "Time"} }

type scanner struct {
	s   string
	pos int
}

func (s *scanner) num(n int) (int, bool) {
	if s.pos+n > len(s.s) {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		c := s.s[s.pos+i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	s.pos += n
	return v, true
}

func (s *scanner) lit(c byte) bool {
	if s.pos < len(s.s) && s.s[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

func (s *scanner) done() bool { return s.pos == len(s.s) }

func (s *scanner) datePart(d *dt) bool {
	var ok bool
	if d.year, ok = s.num(4); !ok {
		return false
	}
	d.prec, d.month, d.day = precYear, 1, 1
	if s.pos+1 < len(s.s) && s.s[s.pos] == '-' {
		s.pos++
		if d.month, ok = s.num(2); !ok || d.month < 1 || d.month > 12 {
			return false
		}
		d.prec = precMonth
		if s.pos+1 < len(s.s) && s.s[s.pos] == '-' {
			s.pos++
			if d.day, ok = s.num(2); !ok || d.day < 1 || d.day > daysIn(d.year, d.month) {
				return false
			}
			d.prec = precDay
		}
	}
	return true
}

func (s *scanner) timePart(d *dt) bool {
	var ok bool
	if d.hour, ok = s.num(2); !ok || d.hour > 23 {
		return false
	}
	d.prec = precHour
	if !s.lit(':') {
		return true
	}
	if d.minute, ok = s.num(2); !ok || d.minute > 59 {
		return false
	}
	d.prec = precMinute
	if !s.lit(':') {
		return true
	}
	if d.second, ok = s.num(2); !ok || d.second > 59 {
		return false
	}
	d.prec = precSecond
	if s.lit('.') {
		start := s.pos
		ms, mult := 0, 100
		for s.pos < len(s.s) && s.s[s.pos] >= '0' && s.s[s.pos] <= '9' {
			ms += int(s.s[s.pos]-'0') * mult
			mult /= 10
			s.pos++
		}
		if s.pos == start {
			return false
		}
		d.ms = ms
		d.prec = precMillisecond
	}
	return true
}

func (s *scanner) zone(d *dt) bool {
	if s.lit('Z') {
		d.hasTZ, d.zulu = true, true
		return true
	}
	if s.pos < len(s.s) && (s.s[s.pos] == '+' || s.s[s.pos] == '-') {
		sign := 1
		if s.s[s.pos] == '-' {
			sign = -1
		}
		s.pos++
		h, ok := s.num(2)
		if !ok || !s.lit(':') {
			return false
		}
		m, ok := s.num(2)
		if !ok || h > 14 || m > 59 {
			return false
		}
		d.hasTZ, d.offset = true, sign*(h*60+m)
	}
	return true
}

func parseDate(s string) (Date, bool) {
	sc := &scanner{s: s}
	var d Date
	if !sc.datePart(&d.dt) || !sc.done() {
		return Date{}, false
	}
	return d, true
}

func parseDateTime(s string) (DateTime, bool) {
	sc := &scanner{s: s}
	var d DateTime
	if !sc.datePart(&d.dt) {
		return DateTime{}, false
	}
	if sc.lit('T') {
		if sc.done() {
			return d, true
		}
		if sc.s[sc.pos] >= '0' && sc.s[sc.pos] <= '9' {
			if d.prec != precDay || !sc.timePart(&d.dt) {
				return DateTime{}, false
			}
		}
		if !sc.zone(&d.dt) {
			return DateTime{}, false
		}
	}
	if !sc.done() {
		return DateTime{}, false
	}
	return d, true
}

func parseTime(s string) (Time, bool) {
	sc := &scanner{s: s}
	var t Time
	if !sc.timePart(&t.dt) || !sc.done() {
		return Time{}, false
	}
	return t, true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (d dt) formatDate() string {
	switch {
	case d.prec >= precDay:
		return fmt.Sprintf("%04d-%02d-%02d", d.year, d.month, d.day)
	case d.prec == precMonth:
		return fmt.Sprintf("%04d-%02d", d.year, d.month)
	default:
		return fmt.Sprintf("%04d", d.year)
	}
}

func (d dt) formatTime() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%02d", d.hour)
	if d.prec >= precMinute {
		fmt.Fprintf(&b, ":%02d", d.minute)
	}
	if d.prec >= precSecond {
		fmt.Fprintf(&b, ":%02d", d.second)
	}
	if d.prec >= precMillisecond {
		fmt.Fprintf(&b, ".%03d", d.ms)
	}
	return b.String()
}

func (d dt) formatZone() string {
	if !d.hasTZ {
		return ""
	}
	if d.zulu {
		return "Z"
	}
	o := d.offset
	sign := '+'
	if o < 0 {
		sign, o = '-', -o
	}
	return fmt.Sprintf("%c%02d:%02d", sign, o/60, o%60)
}

// String formats the date as FHIR writes it.
func (d Date) String() string { return d.formatDate() }

// String formats the date and time as FHIR writes it.
func (d DateTime) String() string {
	if d.prec <= precDay {
		return d.formatDate()
	}
	return d.formatDate() + "T" + d.formatTime() + d.formatZone()
}

// String formats the time as FHIR writes it.
func (t Time) String() string { return t.formatTime() }

func (d dt) goTime() time.Time {
	loc := time.UTC
	if d.hasTZ && d.offset != 0 {
		loc = time.FixedZone("", d.offset*60)
	}
	return time.Date(d.year, time.Month(d.month), d.day, d.hour, d.minute, d.second, d.ms*1e6, loc)
}

func fromGoTime(t time.Time, like dt) dt {
	r := like
	r.year, r.month, r.day = t.Year(), int(t.Month()), t.Day()
	r.hour, r.minute, r.second, r.ms = t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1e6
	return r
}

// normalisedUTC shifts a value with a zone and a time to UTC.
func (d dt) normalisedUTC() dt {
	if !d.hasTZ || d.prec < precHour || d.offset == 0 {
		return d
	}
	t := d.goTime().UTC()
	return fromGoTime(t, d)
}

func (d dt) fields() [7]int {
	return [7]int{d.year, d.month, d.day, d.hour, d.minute, d.second, d.ms}
}

// compareDT orders two temporal values; ok is false when the answer is
// unknown because their precisions or zones differ.
func compareDT(a, b dt, timeOnly bool) (int, bool) {
	if !timeOnly && a.prec >= precHour && b.prec >= precHour && a.hasTZ != b.hasTZ {
		return 0, false
	}
	if !timeOnly {
		a, b = a.normalisedUTC(), b.normalisedUTC()
	}
	pa, pb := a.prec, b.prec
	if pa == precMillisecond {
		pa = precSecond
	}
	if pb == precMillisecond {
		pb = precSecond
	}
	minP := min(pa, pb)
	fa, fb := a.fields(), b.fields()
	start := 0
	if timeOnly {
		start = precHour - 1
	}
	for i := start; i < minP; i++ {
		if fa[i] != fb[i] {
			return sign(fa[i] - fb[i]), true
		}
		if i == precSecond-1 && fa[6] != fb[6] {
			return sign(fa[6] - fb[6]), true
		}
	}
	if pa != pb {
		return 0, false
	}
	return 0, true
}

func sign(i int) int {
	switch {
	case i < 0:
		return -1
	case i > 0:
		return 1
	}
	return 0
}

// temporalOf returns the dt of a Date, DateTime or Time and whether it is a Time.
func temporalOf(v Value) (dt, int, bool) {
	switch t := v.(type) {
	case Date:
		return t.dt, 0, true
	case DateTime:
		return t.dt, 1, true
	case Time:
		return t.dt, 2, true
	}
	return dt{}, 0, false
}

func rebuild(kind int, d dt) Value {
	switch kind {
	case 0:
		return Date{d}
	case 1:
		return DateTime{d}
	}
	return Time{d}
}

// addDuration adds a quantity of time to a date, date-time or time.
func addDuration(v Value, q Quantity, negate bool) (Value, error) {
	d, kind, _ := temporalOf(v)
	unit, ok := durationUnit(q.Unit)
	if !ok {
		return nil, fmt.Errorf("cannot add a quantity in %q to a %s", q.Unit, v.Type().Name)
	}
	amount, _ := q.Value.int64Truncated()
	if negate {
		amount = -amount
	}
	if unit == "ms" && kind == 0 {
		return v, nil
	}
	switch unit {
	case "year":
		if d.prec < precYear {
			return v, nil
		}
		d.year += int(amount)
		if d.day > daysIn(d.year, d.month) {
			d.day = daysIn(d.year, d.month)
		}
		return rebuild(kind, d), nil
	case "month":
		total := d.year*12 + (d.month - 1) + int(amount)
		d.year, d.month = total/12, total%12+1
		if d.day > daysIn(d.year, d.month) {
			d.day = daysIn(d.year, d.month)
		}
		return rebuild(kind, d), nil
	}
	var dur time.Duration
	switch unit {
	case "week":
		dur = time.Duration(amount) * 7 * 24 * time.Hour
	case "day":
		dur = time.Duration(amount) * 24 * time.Hour
	case "hour":
		dur = time.Duration(amount) * time.Hour
	case "minute":
		dur = time.Duration(amount) * time.Minute
	case "second":
		dur = time.Duration(amount) * time.Second
	case "ms":
		dur = time.Duration(amount) * time.Millisecond
	}
	if kind == 2 {
		base := time.Date(2000, 1, 1, d.hour, d.minute, d.second, d.ms*1e6, time.UTC).Add(dur)
		r := d
		r.hour, r.minute, r.second, r.ms = base.Hour(), base.Minute(), base.Second(), base.Nanosecond()/1e6
		return rebuild(kind, r), nil
	}
	if kind == 0 && (unit == "hour" || unit == "minute" || unit == "second") {
		dur = dur.Truncate(24 * time.Hour)
	}
	t := d.goTime().Add(dur)
	return rebuild(kind, fromGoTime(t, d)), nil
}

func durationUnit(u string) (string, bool) {
	switch u {
	case "year", "years":
		return "year", true
	case "month", "months":
		return "month", true
	case "week", "weeks", "wk":
		return "week", true
	case "day", "days", "d":
		return "day", true
	case "hour", "hours", "h":
		return "hour", true
	case "minute", "minutes", "min":
		return "minute", true
	case "second", "seconds", "s":
		return "second", true
	case "millisecond", "milliseconds", "ms":
		return "ms", true
	}
	return "", false
}

var calendarUnits = map[string]bool{
	"year": true, "years": true, "month": true, "months": true, "week": true, "weeks": true,
	"day": true, "days": true, "hour": true, "hours": true, "minute": true, "minutes": true,
	"second": true, "seconds": true, "millisecond": true, "milliseconds": true,
}

func isCalendarUnit(u string) bool { return calendarUnits[u] }

// digitPrecision is the FHIRPath precision() of a temporal value: the number of digits.
func digitPrecision(d dt, isTime bool) int {
	if isTime {
		return [...]int{0, 0, 0, 0, 2, 4, 6, 9}[d.prec]
	}
	return [...]int{0, 4, 6, 8, 10, 12, 14, 17}[d.prec]
}

func precFromDigits(p int, isTime bool) (int, bool) {
	if isTime {
		switch p {
		case 2:
			return precHour, true
		case 4:
			return precMinute, true
		case 6:
			return precSecond, true
		case 9:
			return precMillisecond, true
		}
		return 0, false
	}
	switch p {
	case 4:
		return precYear, true
	case 6:
		return precMonth, true
	case 8:
		return precDay, true
	case 10:
		return precHour, true
	case 12:
		return precMinute, true
	case 14:
		return precSecond, true
	case 17:
		return precMillisecond, true
	}
	return 0, false
}

// temporalBoundary returns the earliest (high=false) or latest moment a
// partial date or time can stand for, at the given digit precision.
func temporalBoundary(v Value, digits int, high bool) (Value, bool) {
	d, kind, _ := temporalOf(v)
	isTime := kind == 2
	target, ok := precFromDigits(digits, isTime)
	if !ok || (kind == 0 && target > precDay) {
		return nil, false
	}
	r := d
	if r.prec < precMonth {
		r.month = 1
		if high {
			r.month = 12
		}
	}
	if r.prec < precDay {
		r.day = 1
		if high {
			r.day = daysIn(r.year, r.month)
		}
	}
	if r.prec < precHour {
		r.hour = 0
		if high {
			r.hour = 23
		}
	}
	if r.prec < precMinute {
		r.minute = 0
		if high {
			r.minute = 59
		}
	}
	if r.prec < precSecond {
		r.second = 0
		if high {
			r.second = 59
		}
	}
	if r.prec < precMillisecond {
		r.ms = 0
		if high {
			r.ms = 999
		}
	}
	if kind == 1 && !r.hasTZ && target >= precHour {
		r.hasTZ = true
		r.offset = 14 * 60
		if high {
			r.offset = -12 * 60
		}
	}
	r.prec = target
	return rebuild(kind, r), true
}
