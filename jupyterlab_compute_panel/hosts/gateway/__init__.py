"""The lab's compute gateway: one Jupyter Kernel Gateway that alone holds the ledger.

It hosts the metering service, the tier provisioner and the ``/compute-panel/*`` REST
API for every user of a JupyterHub, knowing each one by their own Hub API token
(``auth.py``), letting each reach only their own kernels (``auth.py``), keeping only an
allow-list of what a client sends into a kernel's environment and recording the
kernels it launched so that a restart stops what a killed gateway left (``kernels.py``).
Started with ``jupyter compute-panel gateway --config FILE`` (``app.py``).
"""
