package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuality: vitc quality compares float32 with bf16 and int8 on photographs and reports
// agreement, errors, speed and size; vitc build refuses a precision that fails the check.
func TestQuality(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	photos := "../../../runtime/imageio/testdata/"
	model := []string{"--model", fx("tiny_finetuned_zip_f32.pth"), "--heads", "2", "--name", "tiny"}
	imgs := []string{photos + "chelsea_rgb.jpg", photos + "flower_444.jpg", photos + "hopper_420.jpg", photos + "coffee_444.jpg"}
	out := mustRun(t, append(append([]string{"quality", "--json"}, model...), imgs...)...)
	var rows []quality
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 3 || rows[0].DType != "f32" || rows[1].DType != "bf16" || rows[2].DType != "int8" {
		t.Fatalf("rows: %+v", rows)
	}
	bound := map[string]float64{"f32": 0, "bf16": 0.01, "int8": 0.03}
	for _, r := range rows {
		if r.Images != len(imgs) || r.MaxRange > bound[r.DType] || r.ImagesPS <= 0 || r.FileBytes <= 0 || r.Top1 < 0 || r.Top1 > 1 {
			t.Errorf("%s: %+v", r.DType, r)
		}
		if r.DType != "f32" && (r.FileBytes >= rows[0].FileBytes || r.MaxError == 0 || r.MinCosine < 0.99) {
			t.Errorf("%s against float32: %+v", r.DType, r)
		}
		t.Logf("QUALITY %s: top-1 %.0f%% top-5 %.0f%%, max error %.3g = %.3g of the range, min cosine %.6f, %.2f of float32's size",
			r.DType, 100*r.Top1, 100*r.Top5, r.MaxError, r.MaxRange, r.MinCosine, float64(r.FileBytes)/float64(rows[0].FileBytes))
	}
	if rows[0].Top1 != 1 || rows[0].Top5 != 1 || rows[0].MaxError != 0 {
		t.Errorf("float32 against itself: %+v", rows[0])
	}
	plain := mustRun(t, append(append([]string{"quality", "--dtype", "int8"}, model...), imgs[0])...)
	if !strings.Contains(plain, "int8") || strings.Contains(plain, "bf16") || !strings.Contains(plain, "x size") {
		t.Errorf("plain output:\n%s", plain)
	}
	if code, _, errs := vitc(t, append(append([]string{"quality", "--dtype", "fp8"}, model...), imgs[0])...); code != 2 || !strings.Contains(errs, `unknown dtype "fp8"`) {
		t.Errorf("--dtype fp8: %d %s", code, errs)
	}

	// vitc build measures a low precision before building it, and stops below --min-top1.
	file := filepath.Join(t.TempDir(), "x")
	if code, _, errs := vitc(t, append([]string{"build", "--dtype", "bf16", "-o", file}, model...)...); code != 2 || !strings.Contains(errs, "--check IMAGES") {
		t.Errorf("build --dtype without --check: %d %s", code, errs)
	}
	code, _, errs := vitc(t, append([]string{"build", "--dtype", "int8", "--check", strings.Join(imgs, ","), "--min-top1", "100.5", "-o", file}, model...)...)
	if code != 1 || !strings.Contains(errs, "below --min-top1 100.5%") {
		t.Errorf("build below --min-top1: %d %s", code, errs)
	}
}
