"""Image-classification building blocks shared by the image areas: MNIST-format data and
splits (data), augmentation (augment), the classification step (classification), MLP and
CNN blocks (blocks, cnn), the convolutional autoencoder (autoencoder) and the StageTask of
an image classifier (tasks). See README.md in this folder."""
