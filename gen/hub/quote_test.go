package hub

import (
	"net/url"
	"testing"
)

// The expected values were printed by Python 3.11's urllib.parse.quote(s, safe="/") and
// quote(s, safe="").
func TestQuoteMatchesPython(t *testing.T) {
	cases := []struct{ in, slashSafe, nothingSafe string }{
		{"vith14@476/vith14@476_1.0_1.pth", "vith14%40476/vith14%40476_1.0_1.pth", "vith14%40476%2Fvith14%40476_1.0_1.pth"},
		{"a b/c+d=e&f?g#h", "a%20b/c%2Bd%3De%26f%3Fg%23h", "a%20b%2Fc%2Bd%3De%26f%3Fg%23h"},
		{"~user/x_y.z-w", "~user/x_y.z-w", "~user%2Fx_y.z-w"},
		{"ü/ß/日本語.pth", "%C3%BC/%C3%9F/%E6%97%A5%E6%9C%AC%E8%AA%9E.pth", "%C3%BC%2F%C3%9F%2F%E6%97%A5%E6%9C%AC%E8%AA%9E.pth"},
		{"%41", "%2541", "%2541"},
		{"a:b;c,d!e*f(g)h'i", "a%3Ab%3Bc%2Cd%21e%2Af%28g%29h%27i", "a%3Ab%3Bc%2Cd%21e%2Af%28g%29h%27i"},
		{"main", "main", "main"},
		{"refs/pr/1", "refs/pr/1", "refs%2Fpr%2F1"},
		{"$x[1]{2}|3^4`5\"6<7>8", "%24x%5B1%5D%7B2%7D%7C3%5E4%605%226%3C7%3E8", "%24x%5B1%5D%7B2%7D%7C3%5E4%605%226%3C7%3E8"},
		{"", "", ""},
	}
	for _, c := range cases {
		if got := quote(c.in, "/"); got != c.slashSafe {
			t.Errorf("quote(%q, \"/\") = %q, want %q", c.in, got, c.slashSafe)
		}
		if got := quote(c.in, ""); got != c.nothingSafe {
			t.Errorf("quote(%q, \"\") = %q, want %q", c.in, got, c.nothingSafe)
		}
	}
}

func TestResolveURL(t *testing.T) {
	cases := []struct{ endpoint, revision, path, want string }{
		{"https://huggingface.co", "main", "vith14@476/vith14@476_1.0_1.pth",
			"https://huggingface.co/eminorhan/humanlike-vits/resolve/main/vith14%40476/vith14%40476_1.0_1.pth"},
		{"http://127.0.0.1:8080", "refs/pr/1", "finetuned_vits14/vits14_0.01_2.pth",
			"http://127.0.0.1:8080/eminorhan/humanlike-vits/resolve/refs%2Fpr%2F1/finetuned_vits14/vits14_0.01_2.pth"},
		{"https://proxy.example/hf", "main", "a b.pth",
			"https://proxy.example/hf/eminorhan/humanlike-vits/resolve/main/a%20b.pth"},
	}
	for _, c := range cases {
		ep, err := url.Parse(c.endpoint)
		if err != nil {
			t.Fatal(err)
		}
		u := resolveURL(ep, "eminorhan/humanlike-vits", c.revision, c.path)
		if got := u.String(); got != c.want {
			t.Errorf("resolveURL(%s, %s, %s) = %s, want %s", c.endpoint, c.revision, c.path, got, c.want)
		}
	}
}
