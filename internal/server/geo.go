package server

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// countryNames are the names bgfn gives the countries --geo is most often
// set to; any other code is its own name.
var countryNames = map[string]string{
	"AU": "Australia", "BR": "Brazil", "CA": "Canada", "CH": "Switzerland", "CN": "China",
	"DE": "Germany", "ES": "Spain", "FR": "France", "GB": "United Kingdom", "IE": "Ireland",
	"IN": "India", "IT": "Italy", "JP": "Japan", "MX": "Mexico", "NL": "Netherlands",
	"NZ": "New Zealand", "PL": "Poland", "PT": "Portugal", "SE": "Sweden", "SG": "Singapore",
	"US": "United States", "ZA": "South Africa",
}

// ParseCountry checks a country code for --geo: two ASCII letters, in
// either case. It returns the code in upper case.
func ParseCountry(code string) (string, error) {
	up := strings.ToUpper(strings.TrimSpace(code))
	if len(up) != 2 || up[0] < 'A' || up[0] > 'Z' || up[1] < 'A' || up[1] > 'Z' {
		return "", fmt.Errorf("invalid --geo %q: give a two-letter ISO 3166 country code such as DE or JP", code)
	}
	return up, nil
}

// geoFor is the x-nf-geo value (base64 JSON) for a country: the mock San
// Francisco location for US or "" (what netlify dev --geo=mock gives), else
// a location in that country with no city, as netlify dev --country=XX
// does.
func geoFor(country string) string {
	if country == "" || country == "US" {
		return mockGeo
	}
	name := countryNames[country]
	if name == "" {
		name = country
	}
	b, _ := json.Marshal(map[string]any{
		"city":        "",
		"country":     map[string]string{"code": country, "name": name},
		"subdivision": map[string]string{"code": "", "name": ""},
		"timezone":    "UTC",
		"latitude":    0,
		"longitude":   0,
		"postalCode":  "",
	})
	return base64.StdEncoding.EncodeToString(b)
}

// requestGeo is the x-nf-geo value a request gets: the request's own
// x-nf-geo when it sends one (base64 JSON as Netlify sends it, or simply a
// two-letter country code), else bgfn dev's --geo country, else the mock
// location.
func (s *Server) requestGeo(r *http.Request) string {
	if h := r.Header.Get("X-Nf-Geo"); h != "" {
		if c, err := ParseCountry(h); err == nil {
			return geoFor(c)
		}
		if b, err := base64.StdEncoding.DecodeString(h); err == nil && json.Valid(b) {
			return h
		}
		s.opts.Printer.Warning("the request's x-nf-geo header is neither a two-letter country code nor base64 JSON; functions get bgfn's default location")
	}
	return geoFor(s.opts.Geo)
}
