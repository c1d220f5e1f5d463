package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/vitc-dev/vitc/gen/compile"
	"github.com/vitc-dev/vitc/runtime/labels"
	"github.com/vitc-dev/vitc/runtime/progress"
	"github.com/vitc-dev/vitc/runtime/vit"
)

// modelFlags are the flags of every command that loads a model.
type modelFlags struct {
	model string
	opt   compile.Options
}

func (m *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.model, "model", "", "model id (e.g. vits14_1.0_1), checkpoint (.pth) or compiled weights file")
	fs.BoolVar(&m.opt.Finetuned, "finetuned", false, "with a model id: the checkpoint finetuned on ImageNet (default: the MAE-pretrained one)")
	fs.IntVar(&m.opt.Image, "image", 0, "compile for this image size (the position embeddings are interpolated); default: the checkpoint's")
	fs.IntVar(&m.opt.Heads, "heads", 0, "attention heads, for checkpoints that do not say (default: from args.model or the hub's table)")
	fs.StringVar(&m.opt.Name, "name", "", "architecture name to compile as (default: derived, e.g. vith14@448)")
}

// resolve turns --model into a local file, downloading a model id if needed.
func (m *modelFlags) resolve(e *env) (string, error) {
	if m.model == "" {
		return "", usagef("--model is required")
	}
	m.opt.Progress = e.progress()
	return compile.Resolve(context.Background(), m.model, m.opt)
}

// load opens the model, downloading and compiling through the caches first.
func (m *modelFlags) load(e *env) (*vit.Model, error) {
	if m.model == "" {
		return nil, usagef("--model is required")
	}
	m.opt.Progress = e.progress()
	return compile.Load(context.Background(), m.model, m.opt)
}

// progress shows long work on stderr: a bar on a terminal, plain lines otherwise.
func (e *env) progress() progress.Factory { return progress.New(e.stderr) }

// registerDefault is register with a default model: the commands that work on photos run
// DefaultModel unless told otherwise, finetuned when they need its classifier.
func (m *modelFlags) registerDefault(fs *flag.FlagSet, finetuned bool) {
	m.register(fs)
	m.model = DefaultModel
	fs.Lookup("model").DefValue = DefaultModel
	if finetuned {
		m.opt.Finetuned = true
		fs.Lookup("finetuned").DefValue = "true"
	}
}

// loadClassifier loads a model that must have a classifier (with ImageNet's classes when
// imageNet is set); command names the command in the error.
func (m *modelFlags) loadClassifier(e *env, command string, imageNet bool) (*vit.Model, error) {
	model, err := m.load(e)
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
