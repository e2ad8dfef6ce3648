package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// markdownLink is an inline link or image: ](target).
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocLinksResolve: every relative link in README.md and docs/ names a
// file of the repository, and every #anchor a heading of the page it points
// to (as GitHub makes anchors from headings). A link into the reference
// split into docs/ that a move left behind fails here, naming the page and
// the link.
func TestDocLinksResolve(t *testing.T) {
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, "README.md")
	if len(pages) < 5 {
		t.Fatalf("found %d pages (%v): the documentation moved?", len(pages), pages)
	}
	checked := 0
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range markdownLink.FindAllStringSubmatch(withoutCode(string(text)), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			path, anchor, _ := strings.Cut(target, "#")
			file := page
			if path != "" {
				file = filepath.Join(filepath.Dir(page), path)
				if file == ".." || strings.HasPrefix(file, "../") {
					t.Errorf("%s: link %q leaves the repository, which a user's clone has nothing beside", page, target)
					continue
				}
				if _, err := os.Stat(file); err != nil {
					t.Errorf("%s: link %q: %s does not exist", page, target, file)
					continue
				}
			}
			if anchor == "" {
				continue
			}
			if !strings.HasSuffix(file, ".md") {
				t.Errorf("%s: link %q: an anchor into a file that is not Markdown", page, target)
				continue
			}
			linked, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !anchorsOf(string(linked))[anchor] {
				t.Errorf("%s: link %q: %s has no heading whose anchor is #%s", page, target, file, anchor)
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d relative links checked: the link pattern no longer matches the pages?", checked)
	}
}

// withoutCode blanks fenced code blocks, whose brackets are not links.
func withoutCode(text string) string {
	var out strings.Builder
	fenced := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			out.WriteString(line)
		}
		out.WriteByte('\n')
	}
	return out.String()
}

// anchorsOf returns the anchors GitHub gives a page's headings: lower
// case, punctuation but '-' and '_' dropped, spaces as '-', and "-N" added
// to the Nth repeat of one.
func anchorsOf(text string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	for _, line := range strings.Split(withoutCode(text), "\n") {
		level := len(line) - len(strings.TrimLeft(line, "#"))
		if level == 0 || level > 6 || !strings.HasPrefix(line[level:], " ") {
			continue
		}
		var slug strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(line[level:])) {
			switch {
			case r == ' ':
				slug.WriteByte('-')
			case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127:
				slug.WriteRune(r)
			}
		}
		s := slug.String()
		if n := seen[s]; n > 0 {
			anchors[s+"-"+itoa(n)] = true
		} else {
			anchors[s] = true
		}
		seen[s]++
	}
	return anchors
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestAnchorsOf pins the anchor rules on headings of the kinds the pages
// have.
func TestAnchorsOf(t *testing.T) {
	got := anchorsOf("# Title\n## Reloading the configuration (SIGHUP)\n### `wait` and `logs`\n## Title\n```\n# not a heading\n```\n")
	for _, want := range []string{"title", "reloading-the-configuration-sighup", "wait-and-logs", "title-1"} {
		if !got[want] {
			t.Errorf("anchors %v lack %q", got, want)
		}
	}
	if got["not-a-heading"] {
		t.Error("a line in a code block was taken for a heading")
	}
}
