package cli

import (
	"context"
	"flag"
	"fmt"
	"slices"

	"github.com/vitc-dev/vitc/gen/compile"
	"github.com/vitc-dev/vitc/gen/modelid"
	"github.com/vitc-dev/vitc/runtime/engine"
	"github.com/vitc-dev/vitc/runtime/labels"
	"github.com/vitc-dev/vitc/runtime/progress"
	"github.com/vitc-dev/vitc/runtime/vit"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

// modelFlags are the flags of every command that loads a model.
type modelFlags struct {
	model string
	opt   compile.Options
}

func (m *modelFlags) register(e *env, fs *flag.FlagSet) {
	usage := "model id (e.g. vits14_1.0_1), checkpoint (.pth) or compiled weights file"
	switch {
	case e.prog.bundle != nil:
		usage = "not used: this file runs the model built into it, " + e.prog.bundle.Describe()
	case e.prog.arch != "":
		usage = fmt.Sprintf("%s model id (e.g. %s_1.0_1), checkpoint (.pth) or compiled weights file", e.prog.arch, e.prog.arch)
	}
	fs.StringVar(&m.model, "model", "", usage)
	fs.BoolVar(&m.opt.Finetuned, "finetuned", false, "with a model id: the checkpoint finetuned on ImageNet (default: the MAE-pretrained one)")
	fs.IntVar(&m.opt.Image, "image", 0, "compile for this image size (the position embeddings are interpolated); default: the checkpoint's")
	fs.IntVar(&m.opt.Heads, "heads", 0, "attention heads, for checkpoints that do not say (default: from args.model or the hub's table)")
	fs.StringVar(&m.opt.Name, "name", "", "architecture name to compile as (default: derived, e.g. vith14@448)")
	fs.StringVar(&m.opt.DType, "dtype", "", "precision of the blocks' matrices: f32, bf16 or int8 (default f32; see vitc quality for the cost)")
}

// given reports whether there is a model to load: --model, or the one built into this file.
func (m *modelFlags) given(e *env) bool { return m.model != "" || e.prog.bundle != nil }

// check refuses, before anything is downloaded, a model this program cannot run.
func (m *modelFlags) check(e *env) error {
	if b := e.prog.bundle; b != nil {
		if m.model != "" || m.opt.Image != 0 || m.opt.Heads != 0 || m.opt.Name != "" || m.opt.DType != "" {
			return usagef("this file runs only the model built into it, %s: drop --model, --image, --heads, --name and --dtype", b.Describe())
		}
		return nil
	}
	if m.model == "" {
		return usagef("--model is required")
	}
	if m.opt.DType != "" {
		if err := engine.CheckDType(m.opt.DType); err != nil {
			return usageError{"--dtype: " + err.Error()}
		}
	}
	if a := e.prog.arch; a != "" && modelid.LooksLikeID(m.model) {
		if id, err := modelid.Parse(m.model); err == nil && id.Arch != a {
			return fmt.Errorf("%s is a %s model; %s runs %s models only: use vitc, or the %s program", m.model, id.Arch, e.prog.name, a, programName(id.Arch))
		}
	}
	return nil
}

// resolve turns --model into a local file, downloading a model id if needed.
func (m *modelFlags) resolve(e *env) (string, error) {
	if err := m.check(e); err != nil {
		return "", err
	}
	m.opt.Progress = e.progress()
	return compile.Resolve(context.Background(), m.model, m.opt)
}

// weightsFile compiles --model through the caches (as load does) and returns the weights file.
func (m *modelFlags) weightsFile(e *env) (string, error) {
	if err := m.check(e); err != nil {
		return "", err
	}
	m.opt.Progress = e.progress()
	return compile.WeightsFile(context.Background(), m.model, m.opt)
}

// copyFrom is the number of images from which a command reads the weights into memory
// rather than mapping the file (unless $VITC_WEIGHTS says): reading vitb14's 346 MB costs
// 20-40 ms more than a mapping's first pass spends faulting pages in, but 400 more in about a
// third of the runs seen here, when the kernel first compacts memory for the huge pages; it
// saves 2-4% of every pass after (vitb14: ~6 ms an image).
const copyFrom = 32

// loadFor is how a command that runs the model on images images loads the weights.
func loadFor(images int) (wfile.Load, error) {
	l, set, err := wfile.EnvDefault()
	if err != nil || set {
		return l, err
	}
	if images >= copyFrom {
		return wfile.Copy, nil
	}
	return wfile.Map, nil
}

// manyImages is the images argument of load for commands that run the model many times
// (bench, eval).
const manyImages = 1 << 30

// load opens the model to run it on about images images, downloading and compiling through
// the caches first; in a bundle, it opens the weights built into the file.
func (m *modelFlags) load(e *env, images int) (*vit.Model, error) {
	if err := m.check(e); err != nil {
		return nil, err
	}
	load, err := loadFor(images)
	if err != nil {
		return nil, err
	}
	if b := e.prog.bundle; b != nil {
		return b.OpenLoad(e.prog.arch, load)
	}
	path, err := m.weightsFile(e)
	if err != nil {
		return nil, err
	}
	model, err := vit.OpenSectionLoad(path, 0, -1, load)
	if err != nil {
		return nil, err
	}
	if a := e.prog.arch; a != "" && model.Arch().Name != a {
		model.Close()
		return nil, fmt.Errorf("%s is a %s model; %s runs %s models only: use vitc", m.model, model.Arch().Name, e.prog.name, a)
	}
	return model, nil
}

// progress shows long work on stderr: a bar on a terminal, plain lines otherwise.
func (e *env) progress() progress.Factory { return progress.New(e.stderr) }

// defaultModel is the model of the commands that work on photos when --model is not given:
// DefaultModel in vitc, the architecture's model on all the data in its program, the built-in
// one in a bundle ("" stands for it).
func (e *env) defaultModel() string {
	switch {
	case e.prog.bundle != nil:
		return ""
	case e.prog.arch == "":
		return DefaultModel
	case slices.Contains(modelid.Archs, e.prog.arch):
		return modelid.ID{Arch: e.prog.arch, Fraction: "1.0", Seed: 1}.String()
	}
	return ""
}

// registerDefault is register with a default model: the commands that work on photos run
// the program's default model unless told otherwise, finetuned when they need its classifier.
func (m *modelFlags) registerDefault(e *env, fs *flag.FlagSet, finetuned bool) {
	m.register(e, fs)
	m.model = e.defaultModel()
	if m.model != "" {
		fs.Lookup("model").DefValue = m.model
	}
	if finetuned {
		m.opt.Finetuned = true
		fs.Lookup("finetuned").DefValue = "true"
	}
}

// loadClassifier loads a model that must have a classifier (with ImageNet's classes when
// imageNet is set), to run on about images images; command names the command in the error.
func (m *modelFlags) loadClassifier(e *env, command string, imageNet bool, images int) (*vit.Model, error) {
	model, err := m.load(e, images)
	if err != nil {
		return nil, err
	}
	switch {
	case !model.Finetuned():
		err = fmt.Errorf("%s has no classifier: %s needs a finetuned model (--finetuned with a model id)", m.model, command)
	case imageNet && model.Classes() != len(labels.ImageNet):
		err = fmt.Errorf("%s has %d classes, not ImageNet's %d: its labels are unknown", m.model, model.Classes(), len(labels.ImageNet))
	}
	if err != nil {
		model.Close()
		return nil, err
	}
	return model, nil
}
