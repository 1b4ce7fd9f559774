// placeholder so the layer library exists until its first source lands
