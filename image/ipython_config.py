"""Load the jupyter-mlops magics (%k8s, %kfp, %mlflow, %mlops) in every IPython kernel.

The image installs this file as `$CONDA_DIR/etc/ipython/ipython_config.py`: IPython reads
`<sys.prefix>/etc/ipython/` for every kernel and shell of that Python environment, the one
jupyter_mlops is installed in. Not in HOME: the workspace volume is mounted over /home/jovyan
at run time and hides what the image put there. Not /etc/ipython: that would reach Python
environments without jupyter_mlops, whose kernels would then warn on every start.

A user's `~/.ipython/profile_default/ipython_config.py` is read after this file, so it is named
twice (IPython loads an extension once): `extra_extensions` survives the usual
`c.InteractiveShellApp.extensions = [...]` of a user's profile, and `extensions` survives a
`--ext=...` on the command line, which replaces `extra_extensions`.
"""

c = get_config()  # noqa: F821 (IPython's config loader provides get_config)
c.InteractiveShellApp.extensions.append("jupyter_mlops")
c.InteractiveShellApp.extra_extensions.append("jupyter_mlops")
