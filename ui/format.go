package ui

import (
	"strconv"
	"strings"
	"time"
)

// Dates, times, durations and numbers in the console's language. The
// clock is injected so that tests see fixed times in a fixed zone.

// clock is the time and zone the console shows.
type clock struct {
	now func() time.Time
	loc *time.Location
}

// when is a moment: the time alone today, with the date otherwise.
func (c clock) when(t time.Time) string { return c.moment(t, "15:04", dateLayout()+" 15:04") }

// full is a moment to the minute, always with the date.
func (c clock) full(t time.Time) string { return t.In(c.loc).Format(dateLayout() + " 15:04") }

// whenExact is a moment to the second, with the date unless it is today.
func (c clock) whenExact(t time.Time) string {
	return c.moment(t, "15:04:05", dateLayout()+" 15:04:05")
}

// recent is a moment of the activity list: to the second today, to the
// minute with the date before, without the year when it is this year's
// (the column is narrow).
func (c clock) recent(t time.Time) string {
	before := dateLayout()
	if t.In(c.loc).Year() == c.now().In(c.loc).Year() {
		before = dayLayout()
	}
	return c.moment(t, "15:04:05", before+" 15:04")
}

// moment is t in the console's zone, written with the layout today when
// it is today, with before otherwise.
func (c clock) moment(t time.Time, today, before string) string {
	t = t.In(c.loc)
	now := c.now().In(c.loc)
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format(today)
	}
	return t.Format(before)
}

// date is t's day, in t's own zone (a date of birth has none).
func (c clock) date(t time.Time) string { return t.Format(dateLayout()) }

// dateLayout and dayLayout write a day with and without its year, the
// language's way.
func dateLayout() string {
	if language() == "fr" {
		return "02/01/2006"
	}
	return "2 Jan 2006"
}

func dayLayout() string {
	if language() == "fr" {
		return "02/01"
	}
	return "2 Jan"
}

// duration is a short duration: milliseconds below a second, else
// seconds with one decimal.
func duration(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	return decimal(strconv.FormatFloat(d.Seconds(), 'f', 1, 64)) + " s"
}

// decimal writes a number's decimal point the language's way.
func decimal(s string) string {
	if language() == "fr" {
		return strings.Replace(s, ".", ",", 1)
	}
	return s
}

// number is a whole number with the language's thousands separator.
func number(n uint64) string {
	s := strconv.FormatUint(n, 10)
	sep := ","
	if language() == "fr" {
		sep = "\u202f" // narrow no-break space
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}
